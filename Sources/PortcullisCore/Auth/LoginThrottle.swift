public import Foundation
import Synchronization

/// Lockout rules for accounts (stored, so the CLI can clear them) and addresses (in memory).
///
/// Both grow: each lockout after the threshold doubles, up to an hour.
public struct LockoutPolicy: Sendable {
    /// Failures that trigger the first lockout.
    public var threshold: Int
    /// First lockout length in seconds.
    public var baseLockout: TimeInterval = 60
    /// Longest lockout in seconds.
    public var maximumLockout: TimeInterval = 3600
    /// Failures are forgotten after this long without an attempt (a success gives back only its own attempt).
    public var failureResetWindow: TimeInterval = 900

    /// A policy that locks after `threshold` failures.
    public init(threshold: Int) {
        self.threshold = threshold
    }

    /// Lockout length after the `count`-th consecutive failure or trip, or nil when below the threshold.
    public func lockout(afterFailures count: Int) -> TimeInterval? {
        guard count >= threshold else { return nil }
        let doublings = min(count - threshold, 16)
        return min(baseLockout * pow(2, Double(doublings)), maximumLockout)
    }
}

/// Whole seconds until `until`, rounded up, ignoring sub-millisecond noise from stored timestamps.
func secondsUntil(_ until: Date, from now: Date) -> Int {
    max(1, Int((until.timeIntervalSince(now) - 0.001).rounded(.up)))
}

/// Failed attempts per client address within a sliding minute, kept in memory and bounded.
public final class AddressThrottle: Sendable {
    private struct Entry {
        var failures: [Date] = []
        var trips = 0
        var lockedUntil: Date?
    }

    private let limit: Int
    private let window: TimeInterval = 60
    private let maxTracked = 100_000
    private let entries = Mutex<[String: Entry]>([:])

    /// Locks an address after `limitPerMinute` failures within a minute.
    public init(limitPerMinute: Int) {
        self.limit = limitPerMinute
    }

    /// Seconds the address must still wait, or nil when it may try.
    public func retryAfter(address: String, now: Date) -> Int? {
        entries.withLock { table in
            guard let until = table[address]?.lockedUntil, until > now else { return nil }
            return secondsUntil(until, from: now)
        }
    }

    /// Counts one failure; locks the address for a growing time when the limit is reached.
    public func recordFailure(address: String, now: Date) {
        entries.withLock { table in
            if table.count >= maxTracked { Self.evictIdle(&table, now: now, window: window) }
            var entry = table[address] ?? Entry()
            entry.failures.removeAll { now.timeIntervalSince($0) >= window }
            entry.failures.append(now)
            if entry.failures.count >= limit {
                entry.trips += 1
                let policy = LockoutPolicy(threshold: 1)
                entry.lockedUntil = now.addingTimeInterval(policy.lockout(afterFailures: entry.trips) ?? 60)
                entry.failures.removeAll()
            }
            table[address] = entry
        }
    }

    private static func evictIdle(_ table: inout [String: Entry], now: Date, window: TimeInterval) {
        table = table.filter { _, entry in
            (entry.lockedUntil.map { $0 > now } ?? false) || entry.failures.contains { now.timeIntervalSince($0) < window }
        }
        if table.count >= 100_000 { table.removeAll() }
    }
}
