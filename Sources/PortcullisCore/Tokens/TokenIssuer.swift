public import Foundation
import PortcullisCrypto
import PortcullisPolicy

/// Mints every token Portcullis issues — access tokens for users and clients, OIDC ID tokens —
/// and owns the refresh-token families (`families`), so the REST login, each OAuth grant and the
/// pages cannot drift apart in what a token says.
///
/// Audience rule (RFC 9700 section 2.3, RFC 8707, RFC 9068 section 3): first-party tokens (REST
/// login, clients registered first-party) carry the issuer, plus any resources asked for;
/// third-party tokens carry the resources the client asked for, else its client id — never the
/// issuer, so they cannot reach the account API.
public struct TokenIssuer: Sendable {
    /// ID tokens live this long.
    public static let idTokenLifetime: Int64 = 3600

    let signer: AccessTokenSigner
    let keys: any KeyRingSource
    let roles: @Sendable (User) async throws -> [String]
    let clientRoles: @Sendable (String) -> [String]
    let issuer: String
    let accessTokenTTL: TimeInterval
    let clock: @Sendable () -> Date
    /// The refresh-token families: started at login or code redemption, rotated by their owner only.
    public let families: RefreshFamilies

    init(signer: AccessTokenSigner, keys: any KeyRingSource, store: any RoleGrantStore & SessionStore, policies: PolicyProvider,
         configuration: PortcullisConfiguration, clock: @escaping @Sendable () -> Date) {
        self.signer = signer
        self.keys = keys
        self.roles = { user in policies.current.effectiveRoles(subject: user.username, grantedRoles: try await store.roles(ofUserID: user.id)) }
        self.clientRoles = { clientID in policies.current.effectiveRoles(subject: clientID, grantedRoles: []) }
        self.issuer = configuration.issuer
        self.accessTokenTTL = configuration.accessTokenTTL
        self.clock = clock
        self.families = RefreshFamilies(store: store, refreshTokenTTL: configuration.refreshTokenTTL,
                                        graceWindow: configuration.refreshGraceWindow, clock: clock)
    }

    /// Access-token lifetime in whole seconds (`expires_in`).
    public var expiresIn: Int { Int(accessTokenTTL) }

    /// The `aud` of an access token for `client` (nil: the REST API) that asked for `resources`.
    public func audience(client: OAuthClient?, resources: [String]) -> Audience {
        guard let client, !client.firstParty else { return Audience([issuer] + resources) }
        return Audience(resources.isEmpty ? [client.id] : resources)
    }

    /// A signed access token of `user` in session `familyID`, issued through `client` (nil: the REST API).
    public func accessToken(for user: User, client: OAuthClient?, scope: Scope, resources: [String], familyID: String?,
                            jti: String? = nil) async throws -> String {
        try sign(subject: user.id, username: user.username, roles: try await roles(user), client: client, scope: scope,
                 resources: resources, familyID: familyID, jti: jti ?? SecureRandom.token(byteCount: 16))
    }

    /// A signed client-credentials access token: the client is the subject, roles from the policy's bindings.
    public func accessToken(forClient client: OAuthClient, scope: Scope, resources: [String]) throws -> String {
        try sign(subject: client.id, username: nil, roles: clientRoles(client.id), client: client, scope: scope,
                 resources: resources, familyID: nil, jti: SecureRandom.token(byteCount: 16))
    }

    func sign(subject: String, username: String?, roles: [String], client: OAuthClient?, scope: Scope, resources: [String],
              familyID: String?, jti: String) throws -> String {
        let issuedAt = Int64(clock().timeIntervalSince1970)
        return try signer.sign(AccessTokenClaims(
            iss: issuer, sub: subject, aud: audience(client: client, resources: resources), exp: issuedAt + Int64(accessTokenTTL),
            iat: issuedAt, nbf: issuedAt, jti: jti, username: username, roles: roles, scope: scope.text, sid: familyID,
            clientID: client?.id))
    }

    /// An OIDC ID token for `client`, signed with the newest live key of the client's algorithm.
    public func idToken(for user: User, client: OAuthClient, scope: Scope, nonce: String?, authTime: Date, amr: [String],
                        accessToken: String) throws -> String {
        guard let (kid, key) = keys.current().newestKey(client.idTokenAlgorithm) else {
            throw PortcullisError.internalFailure("no live \(client.idTokenAlgorithm.rawValue) key for ID tokens")
        }
        let issuedAt = Int64(clock().timeIntervalSince1970)
        let claims = IDTokenClaims(
            iss: issuer, sub: user.id, aud: client.id, azp: client.id, exp: issuedAt + Self.idTokenLifetime, iat: issuedAt,
            authTime: Int64(authTime.timeIntervalSince1970), nonce: nonce,
            atHash: Self.halfHash(accessToken, algorithm: client.idTokenAlgorithm), amr: amr,
            acr: AuthenticationContext.acr(amr: amr),
            preferredUsername: scope.contains("profile") ? user.username : nil,
            email: scope.contains("email") ? user.email : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try JWS.sign(payload: Array(try encoder.encode(claims)), header: JWSHeader(alg: key.algorithm.rawValue, kid: kid, typ: "JWT"), key: key)
    }

    /// `at_hash`: base64url of the left half of the hash of the token's ASCII (SHA-512 for EdDSA, else SHA-256).
    static func halfHash(_ token: String, algorithm: JWSAlgorithm) -> String {
        let digest = Digest.hash(algorithm == .edDSA ? .sha512 : .sha256, Array(token.utf8))
        return Base64URL.encode(digest.prefix(digest.count / 2))
    }

    /// The client (`aud`) of an ID token we signed, expired or not: identifies the client at logout.
    public func audience(ofIDTokenHint token: String) -> String? {
        let ring = keys.current()
        guard token.utf8.count <= JWS.maximumLength,
              let payload = try? JWS.verify(token, keyFor: { header in header.kid.flatMap { ring.key(kid: $0) } }),
              let claims = try? JSONDecoder().decode(IDTokenClaims.self, from: Data(payload)), claims.iss == issuer else { return nil }
        return claims.aud
    }
}

/// The claims of an OIDC ID token.
struct IDTokenClaims: Codable {
    var iss: String
    var sub: String
    var aud: String
    var azp: String
    var exp: Int64
    var iat: Int64
    var authTime: Int64
    var nonce: String?
    var atHash: String
    var amr: [String]
    var acr: String
    var preferredUsername: String?
    var email: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, azp, exp, iat, nonce, amr, acr, email
        case authTime = "auth_time", atHash = "at_hash", preferredUsername = "preferred_username"
    }
}
