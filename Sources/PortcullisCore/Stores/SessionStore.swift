public import Foundation

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
    /// In one read: nil when the access token is not live — its `jti` is revoked, its session
    /// (`sessionID`, when given) is missing, revoked or not `subject`'s, its client (`clientID`, when
    /// given) is deleted, or (when `requireUser`) user `subject` is missing or disabled — else the
    /// roles granted to `rolesOfUserID` (none when nil). The token form of `/v1/authorize` needs
    /// both for every decision; every other check asks liveness alone (`isAccessTokenLive`).
    func rolesIfAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                rolesOfUserID: String?) async throws -> [String]?
    /// `rolesIfAccessTokenLive` answered on the calling thread without waiting — from memory, or
    /// from a local read that never waits on I/O — or `.mustWait` when only the async read can
    /// answer (the hot path then hands the request to the async route). Never a staler answer
    /// than the async read would give.
    func rolesIfAccessTokenLiveImmediately(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                           rolesOfUserID: String?) throws -> Immediate<[String]?>
}

/// One token's liveness question, the arguments of `SessionStore.rolesIfAccessTokenLive` (the key
/// of the stores' remembered answers).
public struct LivenessQuestion: Hashable, Sendable {
    /// The token's id.
    public let jti: String
    /// Its session (token family), if any.
    public let sessionID: String?
    /// Its subject.
    public let subject: String
    /// Its client, if any.
    public let clientID: String?
    /// Whether user `subject` must exist and be enabled.
    public let requireUser: Bool
    /// Whose granted roles to read with it, if anyone's.
    public let rolesOfUserID: String?

    /// The question with these arguments.
    public init(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool, rolesOfUserID: String?) {
        self.jti = jti
        self.sessionID = sessionID
        self.subject = subject
        self.clientID = clientID
        self.requireUser = requireUser
        self.rolesOfUserID = rolesOfUserID
    }
}

/// An answer given on the calling thread, or the word that it takes an async call.
public enum Immediate<Value: Sendable>: Sendable {
    /// The answer.
    case answered(Value)
    /// Only the async call can answer.
    case mustWait
}

extension SessionStore {
    /// The liveness half of `rolesIfAccessTokenLive`: true unless the token is revoked, its session
    /// or client gone, or (when `requireUser`) its user missing or disabled.
    public func isAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool) async throws -> Bool {
        try await rolesIfAccessTokenLive(jti: jti, sessionID: sessionID, subject: subject, clientID: clientID, requireUser: requireUser,
                                         rolesOfUserID: nil) != nil
    }
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
