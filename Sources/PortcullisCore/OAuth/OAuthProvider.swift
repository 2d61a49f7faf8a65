/// The OAuth stores the provider needs beside `AuthService`'s.
public typealias OAuthProviderStore = ClientStore & AuthorizationCodeStore & ConsentStore & BrowserSessionStore

/// The OAuth 2.0 / OpenID Connect provider, as its parts: client authentication, the browser
/// sessions and authorization flow of the pages, the token endpoint with one grant per type,
/// and revocation/introspection/userinfo. HTTP-free; every token comes from `AuthService.tokens`.
public struct OAuthProvider: Sendable {
    /// Scopes every deployment knows (OIDC Core section 5.4; docs/API.md).
    public static let standardScopes = ["openid", "profile", "email", "offline_access"]

    /// Client authentication.
    public let clients: ClientAuthenticator
    /// Browser sessions of the pages.
    public let browserSessions: BrowserSessions
    /// Login/consent/code decisions.
    public let authorization: AuthorizationFlow
    /// `/oauth2/token`.
    public let tokenEndpoint: TokenEndpoint
    /// Revocation, introspection, userinfo.
    public let introspection: TokenIntrospection
    /// Mints the tokens (shared with the REST API).
    public let tokens: TokenIssuer
    let auth: AuthService
    let store: any ClientStore

    /// The provider over `auth`, with the OAuth parts in `store`.
    public init(auth: AuthService, store: any OAuthProviderStore) {
        self.auth = auth
        self.store = store
        self.clients = ClientAuthenticator(auth: auth, store: store)
        self.browserSessions = BrowserSessions(auth: auth, store: store)
        self.authorization = AuthorizationFlow(auth: auth, store: store)
        self.tokenEndpoint = TokenEndpoint(grants: [
            AuthorizationCodeGrant(auth: auth, store: store), RefreshTokenGrant(auth: auth), ClientCredentialsGrant(auth: auth),
        ])
        self.introspection = TokenIntrospection(auth: auth)
        self.tokens = auth.tokens
    }

    /// A client by id.
    public func client(id: String) async throws -> OAuthClient? {
        try await store.client(id: id)
    }
}
