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

/// Refresh-token families, their tokens (by hash) and revoked access tokens.
public protocol SessionStore: Sendable {
    /// Stores a new family with its first refresh token.
    func createFamily(_ family: TokenFamily, firstToken: RefreshTokenRecord) async throws
    /// Atomically consumes the token with `presentedHash` and stores `successor` in its family.
    ///
    /// In one transaction: unknown, expired or revoked tokens change nothing; a token used
    /// before revokes the whole family, unless it was used less than `graceWindow` seconds
    /// ago, in which case the earlier successor is invalidated and `successor` replaces it.
    /// Two concurrent calls with one token cannot both rotate.
    func rotate(presentedHash: String, successor: RefreshTokenRecord, at: Date, graceWindow: TimeInterval) async throws -> RotationOutcome
    /// The family with this id.
    func family(id: String) async throws -> TokenFamily?
    /// The family of the refresh token with this hash.
    func family(ofTokenHash hash: String) async throws -> TokenFamily?
    /// Revokes one family; false when it does not exist or was revoked already.
    func revokeFamily(id: String, reason: String, at: Date) async throws -> Bool
    /// Revokes every live family of a user except `exceptFamilyID`; returns how many.
    func revokeFamilies(ofUserID userID: String, except exceptFamilyID: String?, reason: String, at: Date) async throws -> Int
    /// Revokes one access token by `jti` until it would have expired anyway.
    func revokeAccessToken(jti: String, expiresAt: Date, at: Date) async throws
    /// True when the access token with this `jti` was revoked.
    func isAccessTokenRevoked(jti: String) async throws -> Bool
    /// In one read: true unless the access token's `jti` is revoked, its session (`sessionID`,
    /// when given) is missing, revoked or not `subject`'s, or — when `requireUser` — user
    /// `subject` is missing or disabled.
    func isAccessTokenLive(jti: String, sessionID: String?, subject: String, requireUser: Bool) async throws -> Bool
}

/// Failed-login counters per account key, shared by the server and the CLI.
public protocol AccountLockoutStore: Sendable {
    /// Current failures and lock expiry for `key`.
    func lockoutState(key: String) async throws -> AccountLockoutState
    /// Adds one failure in one transaction and sets the lock `lockout(failures)` computes.
    func recordFailure(key: String, at: Date, lockout: @Sendable (Int) -> TimeInterval?) async throws -> AccountLockoutState
    /// Clears the counter and any lock; false when there was nothing to clear.
    func clearLockout(key: String) async throws -> Bool
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
