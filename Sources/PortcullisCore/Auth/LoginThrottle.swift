public import Foundation

/// Lockout rules for accounts and, as the lengths of successive locks, for addresses (`AddressThrottleRule`).
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
