public import Foundation

/// Failure counters per client address key (`AddressThrottle.key(for:)`), shared by every replica.
///
/// Each failure is counted in one write transaction that holds the key's row: concurrent failures
/// from any number of processes are each counted once, and the lock trips at exactly the limit.
/// What a failure does to the counter is Core's `AddressThrottleRule`; a store only keeps the
/// state and applies the rule under its lock.
public protocol AddressThrottleStore: Sendable {
    /// The lock stored for `key` (possibly already over), or nil when it was never locked or is forgotten.
    func addressLockedUntil(key: String) async throws -> Date?
    /// `addressLockedUntil` answered on the calling thread without waiting on I/O, or `.mustWait`.
    func addressLockedUntilImmediately(key: String) throws -> Immediate<Date?>
    /// In one write transaction holding `key`'s row: reads its state (none when missing), writes
    /// `rule.recording(failureAt: at, into:)` of it, and returns what was written.
    func recordAddressFailure(key: String, at: Date, rule: AddressThrottleRule) async throws -> AddressThrottleState
}

/// The counter of one address key: recent failures by second, trips, the lock, and when it may be forgotten.
public struct AddressThrottleState: Sendable, Equatable {
    /// Failures of one whole second (seconds since 1970).
    public struct Second: Sendable, Equatable {
        /// The second.
        public var second: Int64
        /// Failures in it.
        public var count: Int
        /// A second with `count` failures.
        public init(second: Int64, count: Int) {
            self.second = second
            self.count = count
        }
    }

    /// Failures inside the sliding window since the last trip, oldest second first.
    public var recentFailures: [Second]
    /// Times the limit was reached since the counter was last forgotten; each lock is longer.
    public var trips: Int
    /// The last lock set, which may be over.
    public var lockedUntil: Date?
    /// After this instant the state is as good as absent (and the janitor removes the row).
    public var expiresAt: Date

    /// A state.
    public init(recentFailures: [Second], trips: Int, lockedUntil: Date?, expiresAt: Date) {
        self.recentFailures = recentFailures
        self.trips = trips
        self.lockedUntil = lockedUntil
        self.expiresAt = expiresAt
    }

    /// Failures inside the window since the last trip.
    public var failures: Int { recentFailures.reduce(0) { $0 + $1.count } }

    /// `recentFailures` as stored: `second:count` pairs separated by spaces ("1700000000:3 1700000001:1").
    public var encodedFailures: String {
        recentFailures.map { "\($0.second):\($0.count)" }.joined(separator: " ")
    }

    /// Reads `encodedFailures` back; malformed pairs are skipped (they would only undercount one minute).
    public static func decodeFailures(_ text: String) -> [Second] {
        text.split(separator: " ").compactMap { pair in
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let second = Int64(parts[0]), let count = Int(parts[1]), count > 0 else { return nil }
            return Second(second: second, count: count)
        }
    }
}
