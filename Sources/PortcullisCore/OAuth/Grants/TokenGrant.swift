import Foundation

/// A token request, typed: the server parses the HTTP form into this; Core never sees the form.
public struct TokenRequest: Sendable, Equatable {
    /// `grant_type`.
    public var grantType: GrantType
    /// `code` (authorization_code).
    public var code: String?
    /// `redirect_uri` (authorization_code).
    public var redirectURI: String?
    /// `code_verifier` (authorization_code, PKCE).
    public var codeVerifier: String?
    /// `refresh_token` (refresh_token).
    public var refreshToken: String?
    /// `scope`: narrowing on refresh, the asked-for scope for client credentials.
    public var scope: Scope?
    /// RFC 8707 `resource` values, each an absolute URI registered on the client.
    public var resources: [String]

    /// Creates a request.
    public init(grantType: GrantType, code: String? = nil, redirectURI: String? = nil, codeVerifier: String? = nil,
                refreshToken: String? = nil, scope: Scope? = nil, resources: [String] = []) {
        self.grantType = grantType
        self.code = code
        self.redirectURI = redirectURI
        self.codeVerifier = codeVerifier
        self.refreshToken = refreshToken
        self.scope = scope
        self.resources = resources
    }
}

/// The token endpoint's answer (RFC 6749 section 5.1, OIDC Core 3.1.3.3).
public struct OAuthTokenResponse: Sendable, Equatable, Codable {
    /// RFC 9068 JWT.
    public var accessToken: String
    /// Always `Bearer`.
    public var tokenType: String = "Bearer"
    /// Seconds.
    public var expiresIn: Int
    /// Only with `offline_access` (or on refresh).
    public var refreshToken: String?
    /// Only with `openid`.
    public var idToken: String?
    /// Granted scopes.
    public var scope: String

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
        case refreshToken = "refresh_token", idToken = "id_token", scope
    }
}

/// One grant type's handling at the token endpoint (fosite's shape: a new grant is one new file).
public protocol TokenGrant: Sendable {
    /// The grant type this handles.
    var grantType: GrantType { get }
    /// Issues tokens for an authenticated client that may use this grant.
    func handle(_ request: TokenRequest, client: OAuthClient, remoteAddress: String) async throws -> OAuthTokenResponse
}

/// `POST /oauth2/token`: routes a typed request to the one grant of its type.
public struct TokenEndpoint: Sendable {
    let grants: [GrantType: any TokenGrant]

    /// The endpoint over `grants`; every `GrantType` must have exactly one.
    public init(grants: [any TokenGrant]) {
        var byType: [GrantType: any TokenGrant] = [:]
        for grant in grants {
            precondition(byType[grant.grantType] == nil, "two grants for \(grant.grantType.rawValue)")
            byType[grant.grantType] = grant
        }
        precondition(Set(byType.keys) == Set(GrantType.allCases), "every grant type needs a TokenGrant")
        self.grants = byType
    }

    /// Issues tokens, or throws an RFC 6749 section 5.2 error.
    public func token(_ request: TokenRequest, client: OAuthClient, remoteAddress: String) async throws -> OAuthTokenResponse {
        guard client.grantTypes.contains(request.grantType) else {
            throw OAuthError(.unauthorizedClient, "this client may not use \(request.grantType.rawValue)")
        }
        guard let grant = grants[request.grantType] else { throw OAuthError(.unsupportedGrantType, "unsupported grant_type") }
        return try await grant.handle(request, client: client, remoteAddress: remoteAddress)
    }
}

extension OAuthClient {
    /// The resources a request may name: those already granted (`granted`, when not empty), else those registered.
    /// - Throws: `invalid_target` (RFC 8707 section 2) for any other.
    func checkResources(_ requested: [String], within granted: [String]) throws(OAuthError) {
        let allowed = granted.isEmpty ? resources : granted
        if let bad = requested.first(where: { !allowed.contains($0) }) {
            throw OAuthError(.invalidTarget, "resource \(bad) is not registered for this client")
        }
    }
}
