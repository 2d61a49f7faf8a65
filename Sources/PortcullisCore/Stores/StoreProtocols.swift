public import Foundation

/// Users by id and by name (case-insensitive).
public protocol UserStore: Sendable {
    /// Stores a new user; throws `PortcullisError.conflict` when the name is taken.
    func createUser(_ user: User) async throws
    /// The user with this id.
    func user(id: String) async throws -> User?
    /// The user with this name, compared without regard to case.
    func user(username: String) async throws -> User?
    /// Every user, ordered by name.
    func allUsers() async throws -> [User]
    /// Replaces the stored password hash.
    func updatePasswordHash(userID: String, hash: String, at: Date) async throws
    /// Enables or disables the user; false when there is no such user.
    func setDisabled(userID: String, disabled: Bool, at: Date) async throws -> Bool
    /// Deletes the user with their grants and sessions; false when there is no such user.
    func deleteUser(id: String) async throws -> Bool
    /// GDPR erasure in one transaction: deletes the user with grants, MFA, sessions, consents, codes,
    /// lockout and decision-log rows, and pseudonymises their audit rows (actor/subject → `pseudonym`,
    /// address and detail cleared). Returns the pseudonymised audit row ids; empty if the user is absent.
    func eraseUser(id: String, username: String, pseudonym: String) async throws -> [Int64]
}

/// Role grants stored per user.
public protocol RoleGrantStore: Sendable {
    /// Grants a role; false when it was already granted.
    func grantRole(_ role: String, toUserID userID: String, at: Date) async throws -> Bool
    /// Revokes a role; false when it was not granted.
    func revokeRole(_ role: String, fromUserID userID: String) async throws -> Bool
    /// The user's granted roles, sorted.
    func roles(ofUserID userID: String) async throws -> [String]
}

/// Refresh-token families, their tokens (by hash), revoked access tokens and the user's sessions.
public protocol SessionStore: Sendable {
    /// Stores a new family (with its owner) and its first refresh token, if any.
    func createFamily(_ family: TokenFamily, firstToken: RefreshTokenRecord?) async throws
    /// Atomically consumes the token with `presentedHash` and stores `successor` in its family.
    ///
    /// In one transaction: unknown, expired or revoked tokens, and tokens of a family that `owner`
    /// does not own, change nothing; a token used before revokes the whole family, unless it was
    /// used less than `graceWindow` seconds ago, in which case the earlier successor is invalidated
    /// and `successor` replaces it. Two concurrent calls with one token cannot both rotate.
    func rotate(presentedHash: String, owner: FamilyOwner, successor: RefreshTokenRecord, at: Date, graceWindow: TimeInterval) async throws -> RotationOutcome
    /// The family with this id.
    func family(id: String) async throws -> TokenFamily?
    /// The family of the refresh token with this hash.
    func family(ofTokenHash hash: String) async throws -> TokenFamily?
    /// The family of a refresh token that is unused, unexpired and not revoked.
    func liveFamily(ofRefreshTokenHash hash: String, at: Date) async throws -> TokenFamily?
    /// Revokes one family; false when it does not exist or was revoked already.
    func revokeFamily(id: String, reason: String, at: Date) async throws -> Bool
    /// In one transaction, ends every session of a user: revokes each live token family except
    /// `exceptFamilyID` and deletes every browser session. Returns how many families and browser sessions ended.
    func endSessions(ofUserID userID: String, exceptFamily exceptFamilyID: String?, reason: String, at: Date) async throws -> EndedSessions
    /// Revokes one access token by `jti` until it would have expired anyway.
    func revokeAccessToken(jti: String, expiresAt: Date, at: Date) async throws
    /// True when the access token with this `jti` was revoked.
    func isAccessTokenRevoked(jti: String) async throws -> Bool
    /// In one read: true unless the access token's `jti` is revoked, its session (`sessionID`,
    /// when given) is missing, revoked or not `subject`'s, its client (`clientID`, when given) is
    /// deleted, or — when `requireUser` — user `subject` is missing or disabled.
    func isAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool) async throws -> Bool
}

/// How many sessions `endSessions` ended.
public struct EndedSessions: Sendable, Equatable {
    /// Token families revoked.
    public var families: Int
    /// Browser sessions deleted.
    public var browserSessions: Int
    /// Creates a count.
    public init(families: Int, browserSessions: Int) {
        self.families = families
        self.browserSessions = browserSessions
    }
}

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

/// The append-only audit trail.
public protocol AuditStore: Sendable {
    /// Appends one event.
    func appendAudit(_ event: AuditEvent) async throws
    /// The newest `limit` events, newest first.
    func recentAudit(limit: Int) async throws -> [AuditEvent]
    /// Every audit row with its hashes, oldest first (for `audit verify`).
    func auditEntries() async throws -> [AuditChain.Entry]
}

/// Everything Portcullis stores, as one value to pass around.
public protocol PortcullisStore: UserStore, RoleGrantStore, SessionStore, AccountLockoutStore, AuditStore, MFAStore, DecisionLogStore, OAuthStore {
    /// True when the database answers a trivial query.
    func isHealthy() async -> Bool
}
