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
        let clientID = try Self.presentedID(credentials)
        let client = try await store.client(id: clientID)
        guard let client, Self.accepts(client, credentials, allowPublic: allowPublic) else {
            try await auth.addressFailed(remoteAddress, now: now)
            try await auth.audit("oauth.client_auth.failure", actor: "anonymous", subject: clientID, address: remoteAddress, at: now)
            throw OAuthError(.invalidClient, "client authentication failed")
        }
        return client
    }

    /// `authenticate` on the calling thread (the hot path), or `.mustWait`: when the store cannot
    /// read without waiting, and for every failure, whose counting and audit are `authenticate`'s.
    public func authenticateImmediately(_ credentials: ClientCredentials, remoteAddress: String, allowPublic: Bool = true) throws -> Immediate<OAuthClient> {
        guard try auth.checkAddressImmediately(remoteAddress, now: auth.clock()) else { return .mustWait }
        guard let clientID = try? Self.presentedID(credentials),
              case .answered(let client?) = try store.clientImmediately(id: clientID),
              Self.accepts(client, credentials, allowPublic: allowPublic) else { return .mustWait }
        return .answered(client)
    }

    private static func presentedID(_ credentials: ClientCredentials) throws -> String {
        guard let clientID = credentials.clientID, !clientID.isEmpty, clientID.utf8.count <= 128 else {
            throw OAuthError(.invalidClient, "client authentication failed")
        }
        return clientID
    }

    /// True when the credentials authenticate `client`: its secret's hash, compared in constant
    /// time, or no secret at all for a public client where public clients may call.
    private static func accepts(_ client: OAuthClient, _ credentials: ClientCredentials, allowPublic: Bool) -> Bool {
        switch (client.secretHash, credentials.secret.map(AuthService.hash)) {
        case (let stored?, let presented?):
            ConstantTime.equals(Array(stored.utf8), Array(presented.utf8))
        case (nil, nil):
            allowPublic
        default:
            false
        }
    }
}
