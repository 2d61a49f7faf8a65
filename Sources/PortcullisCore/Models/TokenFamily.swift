public import Foundation

/// One login session: every refresh token rotated from one login shares a family.
///
/// Access tokens carry the family id as `sid`, so revoking the family makes them inactive.
public struct TokenFamily: Sendable, Equatable {
    /// Opaque identifier (`sid` claim).
    public var id: String
    /// The user the session belongs to.
    public var userID: String
    /// Scope granted at login.
    public var scope: String
    /// When the session started.
    public var createdAt: Date
    /// When the session was revoked, if it was.
    public var revokedAt: Date?
    /// Why it was revoked (`logout`, `reuse`, `password_change`, ...).
    public var revokedReason: String?

    /// Creates a family value.
    public init(id: String, userID: String, scope: String, createdAt: Date, revokedAt: Date? = nil, revokedReason: String? = nil) {
        self.id = id
        self.userID = userID
        self.scope = scope
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
    /// The token had been used already: the whole family is now revoked.
    case reused(familyID: String)
}
