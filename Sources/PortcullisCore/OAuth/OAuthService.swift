public import Foundation
public import PortcullisCrypto
import PortcullisPolicy

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

/// The OAuth 2.0 / OpenID Connect provider: clients, authorization codes, the token endpoint,
/// revocation, introspection, userinfo and ID tokens. HTTP-free.
public final class OAuthService: Sendable {
    /// Scopes every deployment knows (DESIGN.md section 6).
    public static let standardScopes = ["openid", "profile", "email", "offline_access"]
    /// Grant types we implement.
    public static let grantTypes = ["authorization_code", "refresh_token", "client_credentials"]
    /// Authorization codes live this long.
    public static let codeLifetime: TimeInterval = 60
    /// Browser sessions live this long.
    public static let browserSessionLifetime: TimeInterval = 12 * 3600
    /// ID tokens live this long.
    public static let idTokenLifetime: Int64 = 3600

    let auth: AuthService
    let store: any PortcullisStore
    let keys: KeyRingProvider

    /// The provider over `auth`'s store, signer and policy.
    public init(auth: AuthService, keys: KeyRingProvider) {
        self.auth = auth
        self.store = auth.store
        self.keys = keys
    }

    var issuer: String { auth.configuration.issuer }
    var now: Date { auth.clock() }

    // MARK: - Clients

    /// A client by id.
    public func client(id: String) async throws -> OAuthClient? {
        try await store.client(id: id)
    }

    // MARK: - Browser sessions

    /// Starts a browser session after a login; returns the cookie value.
    public func startBrowserSession(user: User, amr: [String]) async throws -> String {
        let cookie = SecureRandom.token()
        try await store.createBrowserSession(BrowserSession(
            idHash: AuthService.hash(cookie), userID: user.id, authTime: now, amr: amr,
            expiresAt: now.addingTimeInterval(Self.browserSessionLifetime)))
        return cookie
    }

    /// The live session and user of a cookie value.
    public func browserSession(cookie: String?) async throws -> (BrowserSession, User)? {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= 256,
              let session = try await store.browserSession(idHash: AuthService.hash(cookie), at: now),
              let user = try await store.user(id: session.userID), !user.disabled else { return nil }
        return (session, user)
    }

    /// Ends a browser session.
    public func endBrowserSession(cookie: String?) async throws {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= 256 else { return }
        if try await store.deleteBrowserSession(idHash: AuthService.hash(cookie)) {
            try await auth.audit("browser.logout", actor: "user", subject: nil, address: nil, at: now)
        }
    }

    // MARK: - Authorization

    /// What the authorization endpoint should do next for a request and the browser's session.
    public enum NextStep: Sendable, Equatable {
        /// Show the login page.
        case login
        /// Show the consent page for these scopes.
        case consent
        /// Redirect to this URL (a code, or an error such as `login_required`).
        case redirect(String)
    }

    /// Decides between login, consent and a code for a validated request.
    public func nextStep(for request: AuthorizationRequest, session: BrowserSession?, user: User?, justLoggedIn: Bool,
                         remoteAddress: String) async throws -> NextStep {
        guard let session, let user else {
            if request.prompt.contains("none") { return .redirect(request.errorRedirect(.loginRequired, "no login session", issuer: issuer)) }
            return .login
        }
        if !justLoggedIn {
            let tooOld = request.maxAge.map { now.timeIntervalSince(session.authTime) > TimeInterval($0) } ?? false
            if request.prompt.contains("login") || tooOld {
                if request.prompt.contains("none") { return .redirect(request.errorRedirect(.loginRequired, "login is too old", issuer: issuer)) }
                return .login
            }
        }
        if try await needsConsent(request, user: user) {
            if request.prompt.contains("none") { return .redirect(request.errorRedirect(.consentRequired, "consent is required", issuer: issuer)) }
            return .consent
        }
        return .redirect(try await issueCode(for: request, session: session, user: user, remoteAddress: remoteAddress))
    }

    func needsConsent(_ request: AuthorizationRequest, user: User) async throws -> Bool {
        if request.client.firstParty { return false }
        if request.prompt.contains("consent") { return true }
        let granted = try await store.consentedScopes(userID: user.id, clientID: request.client.id)
        return !Set(request.scopes).isSubset(of: granted)
    }

    /// Records the user's answer on the consent page and returns the redirect.
    public func answerConsent(_ request: AuthorizationRequest, session: BrowserSession, user: User, approved: Bool, remoteAddress: String) async throws -> String {
        guard approved else {
            try await auth.audit("oauth.consent.denied", actor: user.id, subject: request.client.id, address: remoteAddress, detail: request.scope, at: now)
            return request.errorRedirect(.accessDenied, "the user denied the request", issuer: issuer)
        }
        try await store.recordConsent(userID: user.id, clientID: request.client.id, scopes: Set(request.scopes), at: now)
        try await auth.audit("oauth.consent.granted", actor: user.id, subject: request.client.id, address: remoteAddress, detail: request.scope, at: now)
        return try await issueCode(for: request, session: session, user: user, remoteAddress: remoteAddress)
    }

    func issueCode(for request: AuthorizationRequest, session: BrowserSession, user: User, remoteAddress: String) async throws -> String {
        let code = SecureRandom.token()
        try await store.createAuthorizationCode(AuthorizationCodeRecord(
            codeHash: AuthService.hash(code), clientID: request.client.id, userID: user.id, redirectURI: request.redirectURI,
            scope: request.scope, nonce: request.nonce, codeChallenge: request.codeChallenge, authTime: session.authTime,
            amr: session.amr, expiresAt: now.addingTimeInterval(Self.codeLifetime)))
        try await auth.audit("oauth.authorize", actor: user.id, subject: request.client.id, address: remoteAddress, detail: request.scope, at: now)
        return AuthorizationResponse.location(request.redirectURI, [("code", code), ("state", request.state), ("iss", issuer)])
    }

    // MARK: - Client authentication

    /// Authenticates the client of a token, revocation or introspection request.
    ///
    /// `client_secret_basic`, `client_secret_post`, or `none` for public clients (which only
    /// identify themselves). Throws `invalid_client` without saying which part was wrong.
    public func authenticateClient(_ credentials: ClientCredentials, remoteAddress: String, allowPublic: Bool = true) async throws -> OAuthClient {
        try auth.checkAddress(remoteAddress, now: now)
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
            auth.addressThrottle.recordFailure(address: remoteAddress, now: now)
            try await auth.audit("oauth.client_auth.failure", actor: "anonymous", subject: clientID, address: remoteAddress, at: now)
            throw OAuthError(.invalidClient, "client authentication failed")
        }
        return client
    }

    // MARK: - Token endpoint

    /// `POST /oauth2/token` for an authenticated client.
    public func token(client: OAuthClient, form: [String: String], remoteAddress: String) async throws -> OAuthTokenResponse {
        guard let grantType = form["grant_type"], !grantType.isEmpty else { throw OAuthError(.invalidRequest, "grant_type is required") }
        guard Self.grantTypes.contains(grantType) else { throw OAuthError(.unsupportedGrantType, "unsupported grant_type") }
        guard client.grantTypes.contains(grantType) else { throw OAuthError(.unauthorizedClient, "this client may not use \(grantType)") }
        switch grantType {
        case "authorization_code": return try await redeemCode(client: client, form: form, remoteAddress: remoteAddress)
        case "refresh_token": return try await refresh(client: client, form: form, remoteAddress: remoteAddress)
        default: return try await clientCredentials(client: client, form: form, remoteAddress: remoteAddress)
        }
    }

    func redeemCode(client: OAuthClient, form: [String: String], remoteAddress: String) async throws -> OAuthTokenResponse {
        guard let code = form["code"], !code.isEmpty, code.utf8.count <= 256 else { throw OAuthError(.invalidRequest, "code is required") }
        guard let redirectURI = form["redirect_uri"], !redirectURI.isEmpty else { throw OAuthError(.invalidRequest, "redirect_uri is required") }
        let verifier = form["code_verifier"]
        if let verifier {
            guard (43...128).contains(verifier.count), verifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }) else {
                throw OAuthError(.invalidRequest, "code_verifier is malformed")
            }
        }
        let hash = AuthService.hash(code)
        let familyID = SecureRandom.token(byteCount: 16)
        let jti = SecureRandom.token(byteCount: 16)
        switch try await store.redeemAuthorizationCode(hash: hash, familyID: familyID, accessTokenID: jti, at: now) {
        case .unknown:
            auth.addressThrottle.recordFailure(address: remoteAddress, now: now)
            throw OAuthError(.invalidGrant, "authorization code is not valid")
        case .replayed(let first):
            try await revokeIssued(from: first)
            auth.addressThrottle.recordFailure(address: remoteAddress, now: now)
            try await auth.audit("oauth.code.replay", actor: client.id, subject: first.userID, address: remoteAddress, detail: "tokens of the first redemption revoked", at: now)
            throw OAuthError(.invalidGrant, "authorization code was already used")
        case .redeemed(let record):
            guard record.clientID == client.id else {
                try await revokeIssued(from: record)
                throw OAuthError(.invalidGrant, "authorization code was issued to another client")
            }
            guard record.expiresAt > now else { throw OAuthError(.invalidGrant, "authorization code expired") }
            guard record.redirectURI == redirectURI else { throw OAuthError(.invalidGrant, "redirect_uri does not match the authorization request") }
            switch (record.codeChallenge, verifier) {
            case (nil, nil): break
            case (let challenge?, let verifier?):
                let computed = Base64URL.encode(Digest.sha256(verifier))
                guard ConstantTime.equals(Array(computed.utf8), Array(challenge.utf8)) else {
                    throw OAuthError(.invalidGrant, "code_verifier does not match the code_challenge")
                }
            case (nil, _?): throw OAuthError(.invalidGrant, "code_verifier given but the authorization request had no code_challenge")
            case (_?, nil): throw OAuthError(.invalidGrant, "code_verifier is required")
            }
            guard let user = try await store.user(id: record.userID), !user.disabled else {
                throw OAuthError(.invalidGrant, "the user is no longer active")
            }
            let scopes = record.scope.split(separator: " ").map(String.init)
            var refreshToken: String?
            let wantsRefresh = scopes.contains("offline_access") && client.grantTypes.contains("refresh_token")
            var firstToken: RefreshTokenRecord?
            if wantsRefresh {
                let token = SecureRandom.token()
                refreshToken = token
                firstToken = RefreshTokenRecord(tokenHash: AuthService.hash(token), familyID: familyID, issuedAt: now,
                                                expiresAt: now.addingTimeInterval(auth.configuration.refreshTokenTTL))
            }
            try await store.createClientFamily(TokenFamily(id: familyID, userID: user.id, scope: record.scope, createdAt: now),
                                               clientID: client.id, firstToken: firstToken)
            let access = try await accessToken(user: user, client: client, scope: record.scope, familyID: familyID, jti: jti)
            // A replay that raced this redemption revoked the family before it existed: check again.
            if try await store.wasAuthorizationCodeReplayed(hash: hash) {
                try await revokeIssued(from: record)
                throw OAuthError(.invalidGrant, "authorization code was already used")
            }
            let idToken = scopes.contains("openid")
                ? try idToken(user: user, client: client, scopes: scopes, nonce: record.nonce, authTime: record.authTime, amr: record.amr, accessToken: access)
                : nil
            auth.metrics.tokenIssued(grant: "authorization_code")
            try await auth.audit("oauth.token.issue", actor: client.id, subject: user.id, address: remoteAddress, detail: "authorization_code \(record.scope)", at: now)
            return OAuthTokenResponse(accessToken: access, expiresIn: Int(auth.configuration.accessTokenTTL),
                                      refreshToken: refreshToken, idToken: idToken, scope: record.scope)
        }
    }

    func revokeIssued(from record: AuthorizationCodeRecord) async throws {
        if let familyID = record.familyID { _ = try await store.revokeFamily(id: familyID, reason: "code_replay", at: now) }
        if let jti = record.accessTokenID {
            try await store.revokeAccessToken(jti: jti, expiresAt: now.addingTimeInterval(auth.configuration.accessTokenTTL + 120), at: now)
        }
    }

    func refresh(client: OAuthClient, form: [String: String], remoteAddress: String) async throws -> OAuthTokenResponse {
        guard let presented = form["refresh_token"], !presented.isEmpty, presented.utf8.count <= 512 else {
            throw OAuthError(.invalidRequest, "refresh_token is required")
        }
        let presentedHash = AuthService.hash(presented)
        // The token must belong to this client before anything changes.
        guard let family = try await store.family(ofTokenHash: presentedHash),
              try await store.clientID(ofFamily: family.id) == client.id else {
            auth.addressThrottle.recordFailure(address: remoteAddress, now: now)
            throw OAuthError(.invalidGrant, "refresh token is not valid")
        }
        var scope = family.scope
        if let requested = form["scope"] {
            let narrowed = Set(requested.split(separator: " ").map(String.init))
            guard narrowed.isSubset(of: Set(family.scope.split(separator: " ").map(String.init))) else {
                throw OAuthError(.invalidScope, "a refresh cannot widen the scope")
            }
            scope = family.scope.split(separator: " ").filter { narrowed.contains(String($0)) }.joined(separator: " ")
        }
        let newToken = SecureRandom.token()
        let successor = RefreshTokenRecord(tokenHash: AuthService.hash(newToken), familyID: "", issuedAt: now,
                                           expiresAt: now.addingTimeInterval(auth.configuration.refreshTokenTTL))
        switch try await store.rotate(presentedHash: presentedHash, successor: successor, at: now, graceWindow: auth.configuration.refreshGraceWindow) {
        case .rotated(let family, _):
            guard let user = try await store.user(id: family.userID), !user.disabled else {
                _ = try await store.revokeFamily(id: family.id, reason: "user_unavailable", at: now)
                throw OAuthError(.invalidGrant, "refresh token is not valid")
            }
            let access = try await accessToken(user: user, client: client, scope: scope, familyID: family.id, jti: SecureRandom.token(byteCount: 16))
            auth.metrics.tokenIssued(grant: "refresh_token")
            try await auth.audit("oauth.token.refresh", actor: client.id, subject: user.id, address: remoteAddress, at: now)
            return OAuthTokenResponse(accessToken: access, expiresIn: Int(auth.configuration.accessTokenTTL), refreshToken: newToken, idToken: nil, scope: scope)
        case .reused(let familyID):
            auth.addressThrottle.recordFailure(address: remoteAddress, now: now)
            try await auth.audit("token.reuse", actor: client.id, subject: familyID, address: remoteAddress, detail: "family revoked", at: now)
            throw OAuthError(.invalidGrant, "refresh token was already used; the session is revoked")
        case .unknown, .expired, .revoked:
            auth.addressThrottle.recordFailure(address: remoteAddress, now: now)
            throw OAuthError(.invalidGrant, "refresh token is not valid")
        }
    }

    func clientCredentials(client: OAuthClient, form: [String: String], remoteAddress: String) async throws -> OAuthTokenResponse {
        guard !client.isPublic else { throw OAuthError(.unauthorizedClient, "public clients cannot use client_credentials") }
        let userOnly: Set<String> = ["openid", "profile", "email", "offline_access"]
        let requested = form["scope"].map { $0.split(separator: " ").map(String.init) } ?? client.scopes.filter { !userOnly.contains($0) }
        if let bad = requested.first(where: { !client.scopes.contains($0) || userOnly.contains($0) }) {
            throw OAuthError(.invalidScope, "scope \(bad) is not available to client credentials")
        }
        let scope = requested.joined(separator: " ")
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims = AccessTokenClaims(
            iss: issuer, sub: client.id, aud: auth.configuration.audience, exp: issuedAt + Int64(auth.configuration.accessTokenTTL),
            iat: issuedAt, nbf: issuedAt, jti: SecureRandom.token(byteCount: 16), username: nil,
            roles: auth.policies.current.effectiveRoles(subject: client.id, grantedRoles: []), scope: scope, sid: nil, clientID: client.id)
        let access = try auth.signer.sign(claims)
        auth.metrics.tokenIssued(grant: "client_credentials")
        try await auth.audit("oauth.token.issue", actor: client.id, subject: client.id, address: remoteAddress, detail: "client_credentials \(scope)", at: now)
        return OAuthTokenResponse(accessToken: access, expiresIn: Int(auth.configuration.accessTokenTTL), refreshToken: nil, idToken: nil, scope: scope)
    }

    func accessToken(user: User, client: OAuthClient, scope: String, familyID: String, jti: String) async throws -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        return try auth.signer.sign(AccessTokenClaims(
            iss: issuer, sub: user.id, aud: auth.configuration.audience, exp: issuedAt + Int64(auth.configuration.accessTokenTTL),
            iat: issuedAt, nbf: issuedAt, jti: jti, username: user.username, roles: try await auth.roles(of: user),
            scope: scope, sid: familyID, clientID: client.id))
    }

    // MARK: - ID tokens

    /// Signs an OIDC ID token with the newest key of the client's algorithm.
    func idToken(user: User, client: OAuthClient, scopes: [String], nonce: String?, authTime: Date, amr: [String], accessToken: String) throws -> String {
        guard let (kid, key) = keys.current().newestKey(client.idTokenAlgorithm) else {
            throw PortcullisError.internalFailure("no live \(client.idTokenAlgorithm.rawValue) key for ID tokens")
        }
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims = IDTokenClaims(
            iss: issuer, sub: user.id, aud: client.id, azp: client.id, exp: issuedAt + Self.idTokenLifetime, iat: issuedAt,
            authTime: Int64(authTime.timeIntervalSince1970), nonce: nonce,
            atHash: Self.halfHash(accessToken, algorithm: client.idTokenAlgorithm), amr: amr,
            acr: amr.contains("otp") ? "urn:portcullis:acr:mfa" : "urn:portcullis:acr:pwd",
            preferredUsername: scopes.contains("profile") ? user.username : nil,
            email: scopes.contains("email") ? user.email : nil)
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

    // MARK: - Revocation, introspection, userinfo

    /// RFC 7009: revokes a refresh token's family or an access token of this client. Unknown tokens are not an error.
    public func revoke(client: OAuthClient, token: String, remoteAddress: String) async throws {
        guard !token.isEmpty, token.utf8.count <= JWS.maximumLength else { throw OAuthError(.invalidRequest, "token is required") }
        if let family = try await store.family(ofTokenHash: AuthService.hash(token)) {
            if try await store.clientID(ofFamily: family.id) == client.id, try await store.revokeFamily(id: family.id, reason: "revoked_by_client", at: now) {
                try await auth.audit("oauth.revoke", actor: client.id, subject: family.id, address: remoteAddress, detail: "refresh token family", at: now)
            }
            return
        }
        if let claims = try? auth.signer.verify(token, now: now), claims.clientID == client.id {
            try await store.revokeAccessToken(jti: claims.jti, expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp + AccessTokenSigner.leeway)), at: now)
            try await auth.audit("oauth.revoke", actor: client.id, subject: claims.jti, address: remoteAddress, detail: "access token", at: now)
        }
    }

    /// RFC 7662 member set for a live token, or nil (`active:false`).
    public func introspect(client: OAuthClient, token: String) async throws -> [String: IntrospectionValue]? {
        guard !token.isEmpty, token.utf8.count <= JWS.maximumLength else { return nil }
        if let claims = try await auth.introspect(token) {
            var answer: [String: IntrospectionValue] = [
                "active": .bool(true), "token_type": .string("Bearer"), "scope": .string(claims.scope), "sub": .string(claims.sub),
                "aud": .string(claims.aud), "iss": .string(claims.iss), "exp": .int(claims.exp), "iat": .int(claims.iat),
                "nbf": .int(claims.nbf), "jti": .string(claims.jti), "roles": .strings(claims.roles),
            ]
            if let clientID = claims.clientID { answer["client_id"] = .string(clientID) }
            if let username = claims.username { answer["username"] = .string(username) }
            if let sid = claims.sid { answer["sid"] = .string(sid) }
            return answer
        }
        if let family = try await store.liveFamily(ofRefreshTokenHash: AuthService.hash(token), at: now),
           let owner = try await store.clientID(ofFamily: family.id), owner == client.id,
           let user = try await store.user(id: family.userID), !user.disabled {
            return ["active": .bool(true), "token_type": .string("refresh_token"), "scope": .string(family.scope),
                    "client_id": .string(owner), "sub": .string(user.id), "username": .string(user.username), "iss": .string(issuer)]
        }
        return nil
    }

    /// OIDC userinfo for a live user access token carrying `openid`.
    public func userinfo(accessToken: String) async throws -> [String: IntrospectionValue] {
        guard let claims = try await auth.introspect(accessToken), claims.username != nil,
              let user = try await store.user(id: claims.sub) else {
            throw OAuthError(.invalidRequest, "invalid_token")
        }
        let scopes = Set(claims.scope.split(separator: " ").map(String.init))
        guard scopes.contains("openid") else { throw OAuthError(.insufficientScope, "the token lacks the openid scope") }
        var answer: [String: IntrospectionValue] = ["sub": .string(user.id)]
        if scopes.contains("profile") {
            answer["preferred_username"] = .string(user.username)
            answer["name"] = .string(user.username)
            answer["updated_at"] = .int(Int64(user.updatedAt.timeIntervalSince1970))
        }
        if scopes.contains("email"), let email = user.email {
            answer["email"] = .string(email)
            answer["email_verified"] = .bool(false)
        }
        return answer
    }
}

/// A JSON value of an introspection or userinfo answer.
public enum IntrospectionValue: Sendable, Equatable, Encodable {
    case bool(Bool)
    case string(String)
    case int(Int64)
    case strings([String])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .strings(let value): try container.encode(value)
        }
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
