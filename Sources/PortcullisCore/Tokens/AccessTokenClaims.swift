/// The claims of a Portcullis access token (RFC 9068 profile plus `username`, `roles`, `sid`).
public struct AccessTokenClaims: Codable, Sendable, Equatable {
    /// Issuer.
    public var iss: String
    /// Subject: the user id (or a client id for client-credentials tokens).
    public var sub: String
    /// Audience: the issuer for first-party tokens, else the client's resources or its id.
    public var aud: Audience
    /// Expiry, seconds since 1970.
    public var exp: Int64
    /// Issued at.
    public var iat: Int64
    /// Not before.
    public var nbf: Int64
    /// Unique token id.
    public var jti: String
    /// Login name at issue time.
    public var username: String?
    /// Effective roles at issue time.
    public var roles: [String]
    /// Space-separated scopes.
    public var scope: String
    /// Session (refresh-token family) id.
    public var sid: String?
    /// OAuth client the token was issued to.
    public var clientID: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nbf, jti, username, roles, scope, sid
        case clientID = "client_id"
    }

    /// Creates claims.
    public init(iss: String, sub: String, aud: Audience, exp: Int64, iat: Int64, nbf: Int64, jti: String, username: String?, roles: [String], scope: String, sid: String?, clientID: String? = nil) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
        self.jti = jti
        self.username = username
        self.roles = roles
        self.scope = scope
        self.sid = sid
        self.clientID = clientID
    }
}

extension AccessTokenClaims {
    /// True for a token of a user (REST login or an OAuth grant on a user's behalf), false for a client's own token.
    public var isUserToken: Bool { username != nil }
}
