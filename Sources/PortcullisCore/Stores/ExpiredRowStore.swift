public import Foundation

/// Removal of rows nothing needs any more, in one sweep (dex's `GarbageCollect(now)`).
public protocol ExpiredRowStore: Sendable {
    /// In one transaction: removes authorization codes, browser sessions, MFA challenges, WebAuthn
    /// challenges, refresh tokens and revoked access tokens that expired before `cutoff.expiredBefore`; token families
    /// revoked before it, or left without a refresh token and started before
    /// `cutoff.tokenlessFamiliesStartedBefore`; address failure counters forgotten before it
    /// (`AddressThrottleState.expiresAt`); and all but the newest `cutoff.keepDecisions` decisions.
    ///
    /// A used refresh token is kept until it expires, so presenting it again is still reuse while its
    /// family is live.
    ///
    /// Maintenance runs on one replica at a time: where several processes share the database
    /// (PostgreSQL), the sweep runs only if this process wins the maintenance lock, which it tries
    /// without waiting; when another holds it (sweeping, or trimming the decision log) the answer is
    /// `.skipped` and nothing was removed. Where one process writes at a time anyway (SQLite) every
    /// sweep runs.
    func removeExpired(_ cutoff: ExpiryCutoff) async throws -> SweepOutcome
}

/// What one call of `removeExpired` did.
public enum SweepOutcome: Sendable, Equatable {
    /// This process swept and removed these rows.
    case swept(RemovedRows)
    /// Another process held the maintenance lock: nothing was removed, and nothing waited.
    case skipped

    /// The rows removed; none when skipped.
    public var removed: RemovedRows {
        if case .swept(let rows) = self { rows } else { RemovedRows() }
    }
}

/// What the janitor may remove; every time comes from the caller.
public struct ExpiryCutoff: Sendable, Equatable {
    /// Rows that expired before this instant go.
    public var expiredBefore: Date
    /// A family without refresh tokens (all expired, or never issued) started before this has no
    /// live access token left, and goes.
    public var tokenlessFamiliesStartedBefore: Date
    /// Newest decision-log rows kept.
    public var keepDecisions: Int

    /// Creates a cutoff.
    public init(expiredBefore: Date, tokenlessFamiliesStartedBefore: Date, keepDecisions: Int) {
        self.expiredBefore = expiredBefore
        self.tokenlessFamiliesStartedBefore = tokenlessFamiliesStartedBefore
        self.keepDecisions = keepDecisions
    }
}

/// How many rows of each kind one sweep removed.
public struct RemovedRows: Sendable, Equatable {
    /// Authorization codes.
    public var codes = 0
    /// Browser sessions.
    public var browserSessions = 0
    /// MFA login challenges.
    public var mfaChallenges = 0
    /// WebAuthn challenges (registration, passkey login and passkey second-factor ceremonies).
    public var webAuthnChallenges = 0
    /// Refresh tokens (besides those removed with their family).
    public var refreshTokens = 0
    /// Token families, with their remaining refresh tokens.
    public var families = 0
    /// Revoked access-token rows.
    public var revokedAccessTokens = 0
    /// Decision-log rows past capacity.
    public var decisions = 0
    /// Address failure counters past their `expiresAt`.
    public var addressThrottles = 0

    /// No rows.
    public init() {}

    /// Each kind with its metric label.
    public var byKind: [(kind: String, count: Int)] {
        [("codes", codes), ("browser_sessions", browserSessions), ("mfa_challenges", mfaChallenges),
         ("webauthn_challenges", webAuthnChallenges), ("refresh_tokens", refreshTokens),
         ("families", families), ("revoked_access_tokens", revokedAccessTokens), ("decisions", decisions),
         ("address_throttles", addressThrottles)]
    }

    /// Rows of every kind.
    public var total: Int { byKind.reduce(0) { $0 + $1.count } }
}
