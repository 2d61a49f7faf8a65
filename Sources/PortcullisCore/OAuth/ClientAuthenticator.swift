import PortcullisCrypto

/// Credentials a client presented at a token, revocation or introspection request.
public struct ClientCredentials: Sendable, Equatable {
    /// `client_id` from the form or the Basic header.
    public var clientID: String?
    /// The secret, if any.
    public var secret: String?
    /// True when they came in an `Authorization: Basic` header.
    public var viaBasic: Bool

    /// Creates credentials.
    public init(clientID: String?, secret: String?, viaBasic: Bool) {
        self.clientID = clientID
        self.secret = secret
        self.viaBasic = viaBasic
    }
}

/// Client authentication at the token, revocation and introspection endpoints.
public struct ClientAuthenticator: Sendable {
    let auth: AuthService
    let store: any ClientStore

    /// An authenticator over the clients in `store` and `auth`'s throttle and audit log.
    public init(auth: AuthService, store: any ClientStore) {
        self.auth = auth
        self.store = store
    }

    /// `client_secret_basic`, `client_secret_post`, or `none` for public clients (which only
    /// identify themselves). Throws `invalid_client` without saying which part was wrong; the
    /// secret's hash is compared in constant time.
    public func authenticate(_ credentials: ClientCredentials, remoteAddress: String, allowPublic: Bool = true) async throws -> OAuthClient {
        let now = auth.clock()
        try await auth.checkAddress(remoteAddress, now: now)
        guard let clientID = credentials.clientID, !clientID.isEmpty, clientID.utf8.count <= 128 else {
            throw OAuthError(.invalidClient, "client authentication failed")
        }
        let client = try await store.client(id: clientID)
        let presented = credentials.secret.map(AuthService.hash)
        let authenticated: Bool
        switch (client?.secretHash, presented) {
        case (let stored?, let presented?):
            authenticated = ConstantTime.equals(Array(stored.utf8), Array(presented.utf8))
        case (nil, nil):
            authenticated = client != nil && allowPublic
        default:
            authenticated = false
        }
        guard let client, authenticated else {
            try await auth.addressFailed(remoteAddress, now: now)
            try await auth.audit("oauth.client_auth.failure", actor: "anonymous", subject: clientID, address: remoteAddress, at: now)
            throw OAuthError(.invalidClient, "client authentication failed")
        }
        return client
    }
}
