public import Foundation
public import PortcullisCrypto

/// Registers, lists and deletes OAuth clients (the admin CLI's `client` commands).
public struct ClientAdministration: Sendable {
    let store: any ClientStore & AuditStore
    let clock: @Sendable () -> Date

    /// Administration over `store`.
    public init(store: any ClientStore & AuditStore, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.clock = clock
    }

    /// Registers a client. Returns it with its secret, shown once (nil for public clients).
    ///
    /// The secret is 256 random bits; only its SHA-256 is stored (docs/TOKENS.md, "Other secrets").
    public func register(id: String?, name: String, isPublic: Bool, redirectURIs: [String], postLogoutRedirectURIs: [String],
                         scopes: [String], grantTypes: [GrantType], resources: [String] = [], pkceRequired: Bool = true,
                         idTokenAlgorithm: JWSAlgorithm, firstParty: Bool) async throws -> (OAuthClient, String?) {
        let clientID = id ?? SecureRandom.token(byteCount: 16)
        guard !clientID.isEmpty, clientID.utf8.count <= 128, clientID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }) else {
            throw PortcullisError.invalidRequest("client id may use letters, digits and -._~ (at most 128)")
        }
        guard !name.isEmpty, name.count <= 200 else { throw PortcullisError.invalidRequest("client name must be 1 to 200 characters") }
        var allScopes = OAuthProvider.standardScopes
        for scope in scopes where !allScopes.contains(scope) { allScopes.append(scope) }
        try OAuthClient.validate(redirectURIs: redirectURIs + postLogoutRedirectURIs, scopes: allScopes, resources: resources)
        let grants = grantTypes.isEmpty ? (isPublic ? [.authorizationCode, .refreshToken] : GrantType.allCases) : grantTypes
        if grants.contains(.authorizationCode), redirectURIs.isEmpty {
            throw PortcullisError.invalidRequest("the authorization code grant needs at least one --redirect-uri")
        }
        if isPublic, grants.contains(.clientCredentials) {
            throw PortcullisError.invalidRequest("a public client cannot use client credentials")
        }
        if isPublic, !pkceRequired {
            throw PortcullisError.invalidRequest("PKCE cannot be optional for a public client")
        }
        let now = clock()
        let secret = isPublic ? nil : SecureRandom.token(byteCount: 32)
        let client = OAuthClient(
            id: clientID, name: name, secretHash: secret.map(AuthService.hash), redirectURIs: redirectURIs,
            postLogoutRedirectURIs: postLogoutRedirectURIs, scopes: allScopes, grantTypes: grants,
            resources: Array(Set(resources)).sorted(), pkceRequired: pkceRequired, idTokenAlgorithm: idTokenAlgorithm, firstParty: firstParty, createdAt: now)
        try await store.createClient(client)
        try await store.appendAudit(AuditEvent(at: now, action: "client.add", actor: "admin", subject: clientID, remoteAddress: nil, detail: isPublic ? "public" : "confidential"))
        return (client, secret)
    }

    /// Every client.
    public func list() async throws -> [OAuthClient] {
        try await store.allClients()
    }

    /// One client; `notFound` if absent.
    public func show(id: String) async throws -> OAuthClient {
        guard let client = try await store.client(id: id) else { throw PortcullisError.notFound("no client \(id)") }
        return client
    }

    /// Deletes a client with its codes, consents and sessions.
    public func delete(id: String) async throws {
        guard try await store.deleteClient(id: id) else { throw PortcullisError.notFound("no client \(id)") }
        try await store.appendAudit(AuditEvent(at: clock(), action: "client.delete", actor: "admin", subject: id, remoteAddress: nil, detail: nil))
    }
}
