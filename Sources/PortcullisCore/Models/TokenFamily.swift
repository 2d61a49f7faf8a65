public import Foundation

/// One session: every refresh token rotated from one login or one authorization code shares a family.
///
/// Access tokens carry the family id as `sid`, so revoking the family makes them inactive. The
/// family records its owner: no client for a first-party REST session, else the OAuth client it
/// was issued to; only that owner may rotate it (RFC 6749 section 6, RFC 9700 section 4.14).
public struct TokenFamily: Sendable, Equatable {
    /// Opaque identifier (`sid` claim).
    public var id: String
    /// The user the session belongs to.
    public var userID: String
    /// The OAuth client it was issued to; nil for a REST-login session.
    public var clientID: String?
    /// Scope granted at login.
    public var scope: String
    /// RFC 8707 resources granted (the access tokens' audience); empty for first-party sessions.
    public var resources: [String]
    /// When the session started.
    public var createdAt: Date
    /// When the session was revoked, if it was.
    public var revokedAt: Date?
    /// Why it was revoked (`logout`, `reuse`, `password_change`, ...).
    public var revokedReason: String?

    /// Creates a family value.
    public init(id: String, userID: String, clientID: String?, scope: String, resources: [String] = [], createdAt: Date,
                revokedAt: Date? = nil, revokedReason: String? = nil) {
        self.id = id
        self.userID = userID
        self.clientID = clientID
        self.scope = scope
        self.resources = resources
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.revokedReason = revokedReason
    }
}

/// A refresh token as stored: only the SHA-256 of the token, never the token.
public struct RefreshTokenRecord: Sendable, Equatable {
    /// Hex SHA-256 of the token string.
    public var tokenHash: String
    /// The family it belongs to.
    public var familyID: String
    /// When it was issued.
    public var issuedAt: Date
    /// When it stops working.
    public var expiresAt: Date

    /// Creates a record.
    public init(tokenHash: String, familyID: String, issuedAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.familyID = familyID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// What happened when a refresh token was presented for rotation.
public enum RotationOutcome: Sendable, Equatable {
    /// The token was live; the successor is stored. `graceRetry` when it was a retry within the grace window.
    case rotated(TokenFamily, graceRetry: Bool)
    /// No such token.
    case unknown
    /// The token expired.
    case expired
    /// The token's family was revoked earlier.
    case revoked
    /// The token belongs to another owner (a client's token at the REST refresh, or another client's):
    /// nothing was consumed.
    case wrongOwner
    /// The token had been used already: the whole family is now revoked.
    case reused(familyID: String)
}

/// Who may rotate a family: the REST API (first-party sessions) or one OAuth client.
public enum FamilyOwner: Sendable, Equatable {
    /// `/v1/token/refresh`: families without a client.
    case firstParty
    /// `/oauth2/token`: families of this client only.
    case client(String)

    /// The `client_id` a family of this owner records.
    public var clientID: String? {
        switch self {
        case .firstParty: nil
        case .client(let id): id
        }
    }
}
