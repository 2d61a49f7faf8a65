public import Foundation

/// Attempt counters per account key, shared by the server and the CLI.
///
/// Every password, TOTP or recovery-code check first reserves an attempt; the reservation is
/// counted as a failure until the check succeeds and gives back that one attempt, so concurrent
/// guesses can never evaluate more than the threshold — not even when the owner's right password
/// lands in the middle of a burst (a success never erases other attempts' failures). Failures are
/// forgotten after `resetAfter` seconds without an attempt.
public protocol AccountLockoutStore: Sendable {
    /// Current failures and lock expiry for `key`.
    func lockoutState(key: String) async throws -> AccountLockoutState
    /// In one write transaction: refuses when `key` is locked at `at`; else counts one attempt (from
    /// zero when the last one is more than `resetAfter` seconds old) and sets the lock
    /// `lockout(failures)` computes (the attempt that reaches the threshold still runs).
    func reserveAttempt(key: String, at: Date, resetAfter: TimeInterval, lockout: @Sendable (Int) -> TimeInterval?) async throws -> AttemptReservation
    /// Gives back one reserved attempt that succeeded: only it is uncounted, and the lock is lifted
    /// only if the count falls below `threshold`.
    func releaseAttempt(key: String, threshold: Int) async throws
    /// Clears the counter and any lock; false when there was nothing to clear.
    func clearLockout(key: String) async throws -> Bool
}

/// What reserving an attempt found.
public enum AttemptReservation: Sendable, Equatable {
    /// The attempt may run; `failures` counts it, and `lockedUntil` is set when it reached the threshold.
    case reserved(AccountLockoutState)
    /// The account is locked until then: nothing may be checked.
    case locked(until: Date)
}

/// Failures and lock of one account.
public struct AccountLockoutState: Sendable, Equatable {
    /// Consecutive failures since the last success or unlock.
    public var failures: Int
    /// The account is locked until then.
    public var lockedUntil: Date?
    /// Creates a state.
    public init(failures: Int, lockedUntil: Date?) {
        self.failures = failures
        self.lockedUntil = lockedUntil
    }
}
