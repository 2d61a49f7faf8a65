public import Foundation
public import PortcullisCrypto

/// A registered OAuth client (an application that sends users to Portcullis to log in).
public struct OAuthClient: Sendable, Equatable, Codable {
    /// Public identifier (`client_id`).
    public var id: String
    /// Shown on the consent page.
    public var name: String
    /// Hex SHA-256 of the secret; nil for a public client. The secret is ≥ 256 random bits,
    /// so a fast hash is safe (docs/TOKENS.md, "Other secrets").
    public var secretHash: String?
    /// Exact redirect URIs; loopback `http://127.0.0.1`/`[::1]` URIs may differ in port (RFC 8252).
    public var redirectURIs: [String]
    /// Where RP-initiated logout may send the browser back to.
    public var postLogoutRedirectURIs: [String]
    /// Scopes the client may ask for.
    public var scopes: [String]
    /// The grants it may use.
    public var grantTypes: [GrantType]
    /// RFC 8707 resource indicators it may ask for; they become its access tokens' audience.
    public var resources: [String]
    /// PKCE is required (the default, RFC 9700 section 2.1.1); only a confidential client may be registered without.
    public var pkceRequired: Bool
    /// `id_token_signed_response_alg`.
    public var idTokenAlgorithm: JWSAlgorithm
    /// First-party clients skip the consent page.
    public var firstParty: Bool
    /// When it was registered.
    public var createdAt: Date

    /// True for clients without a secret (native and browser apps): PKCE S256 is mandatory.
    public var isPublic: Bool { secretHash == nil }

    /// Creates a client.
    public init(id: String, name: String, secretHash: String?, redirectURIs: [String], postLogoutRedirectURIs: [String],
                scopes: [String], grantTypes: [GrantType], resources: [String] = [], pkceRequired: Bool = true,
                idTokenAlgorithm: JWSAlgorithm, firstParty: Bool, createdAt: Date) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.redirectURIs = redirectURIs
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.scopes = scopes
        self.grantTypes = grantTypes
        self.resources = resources
        self.pkceRequired = pkceRequired
        self.idTokenAlgorithm = idTokenAlgorithm
        self.firstParty = firstParty
        self.createdAt = createdAt
    }
}

/// An issued authorization code, stored by hash, single use.
public struct AuthorizationCodeRecord: Sendable, Equatable {
    /// Hex SHA-256 of the code.
    public var codeHash: String
    /// The client it was issued to.
    public var clientID: String
    /// The user who authorised.
    public var userID: String
    /// The exact redirect URI of the authorization request.
    public var redirectURI: String
    /// Granted scopes, space-separated.
    public var scope: String
    /// OIDC nonce, echoed in the ID token.
    public var nonce: String?
    /// PKCE S256 challenge, if any.
    public var codeChallenge: String?
    /// When the user authenticated.
    public var authTime: Date
    /// Authentication methods (`pwd`, `otp`).
    public var amr: [String]
    /// RFC 8707 resources of the authorization request (registered on the client).
    public var resources: [String]
    /// Expiry (60 s after issue).
    public var expiresAt: Date
    /// The token family and access-token jti this code's redemption issues, fixed at redemption time.
    public var familyID: String?
    /// The access token's `jti`.
    public var accessTokenID: String?

    /// Creates a record.
    public init(codeHash: String, clientID: String, userID: String, redirectURI: String, scope: String, nonce: String?,
                codeChallenge: String?, authTime: Date, amr: [String], resources: [String] = [], expiresAt: Date,
                familyID: String? = nil, accessTokenID: String? = nil) {
        self.codeHash = codeHash
        self.clientID = clientID
        self.userID = userID
        self.redirectURI = redirectURI
        self.scope = scope
        self.nonce = nonce
        self.codeChallenge = codeChallenge
        self.authTime = authTime
        self.amr = amr
        self.resources = resources
        self.expiresAt = expiresAt
        self.familyID = familyID
        self.accessTokenID = accessTokenID
    }
}

/// A browser login session (the `portcullis_session` cookie), stored by hash.
public struct BrowserSession: Sendable, Equatable {
    /// Hex SHA-256 of the cookie value.
    public var idHash: String
    /// The logged-in user.
    public var userID: String
    /// When the user authenticated.
    public var authTime: Date
    /// Authentication methods used.
    public var amr: [String]
    /// Hard expiry.
    public var expiresAt: Date

    /// Creates a session record.
    public init(idHash: String, userID: String, authTime: Date, amr: [String], expiresAt: Date) {
        self.idHash = idHash
        self.userID = userID
        self.authTime = authTime
        self.amr = amr
        self.expiresAt = expiresAt
    }
}
