/// `grant_type=client_credentials` (RFC 6749 section 4.4): a confidential client's own token,
/// subject = client id, roles from the policy's bindings. It dies with the client.
public struct ClientCredentialsGrant: TokenGrant {
    /// `client_credentials`.
    public let grantType = GrantType.clientCredentials
    /// Scopes that only make sense for a user: the standard OIDC scopes.
    static let userOnlyScopes = Set(OAuthProvider.standardScopes)
    let auth: AuthService

    /// The grant over `auth`'s token issuer.
    public init(auth: AuthService) {
        self.auth = auth
    }

    public func handle(_ request: TokenRequest, client: OAuthClient, remoteAddress: String) async throws -> OAuthTokenResponse {
        guard !client.isPublic else { throw OAuthError(.unauthorizedClient, "public clients cannot use client_credentials") }
        let requested = request.scope ?? Scope(client.scopes.filter { !Self.userOnlyScopes.contains($0) })
        if let bad = requested.tokens.first(where: { !client.scopes.contains($0) || Self.userOnlyScopes.contains($0) }) {
            throw OAuthError(.invalidScope, "scope \(bad) is not available to client credentials")
        }
        try client.checkResources(request.resources, within: [])
        let access = try auth.tokens.accessToken(forClient: client, scope: requested, resources: request.resources)
        auth.metrics.tokenIssued(grant: grantType.rawValue)
        try await auth.audit("oauth.token.issue", actor: client.id, subject: client.id, address: remoteAddress,
                             detail: "client_credentials \(requested.text)", at: auth.clock())
        return OAuthTokenResponse(accessToken: access, expiresIn: auth.tokens.expiresIn, refreshToken: nil, idToken: nil, scope: requested.text)
    }
}
