public import Foundation
public import PortcullisCrypto
import PortcullisPolicy

/// Password login, refresh rotation, logout, token checks and password change.
///
/// HTTP-free: the server's controllers and the tests call it directly.
public final class AuthService: Sendable {
    /// Scope of tokens issued by the REST login.
    public static let defaultScope = "openid profile"

    let store: any PortcullisStore
    let hasher: PasswordHasher
    let signer: AccessTokenSigner
    let configuration: PortcullisConfiguration
    let addressThrottle: AddressThrottle
    let accountPolicy: LockoutPolicy
    let secretsKey: [UInt8]
    /// The policy in force: it turns database grants into effective roles.
    public let policies: PolicyProvider
    let clock: @Sendable () -> Date
    /// Counters of events, tokens and decisions.
    public let metrics: PortcullisMetrics

    /// Wires the service.
    public init(
        store: any PortcullisStore,
        hasher: PasswordHasher,
        signer: AccessTokenSigner,
        configuration: PortcullisConfiguration,
        secretsKey: [UInt8],
        policies: PolicyProvider,
        metrics: PortcullisMetrics = PortcullisMetrics(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.metrics = metrics
        self.secretsKey = secretsKey
        self.policies = policies
        self.store = store
        self.hasher = hasher
        self.signer = signer
        self.configuration = configuration
        self.addressThrottle = AddressThrottle(limitPerMinute: configuration.addressFailureLimit)
        self.accountPolicy = LockoutPolicy(threshold: configuration.accountFailureLimit)
        self.clock = clock
    }

    /// Checks a username and password; starts a session, or asks for the second factor.
    ///
    /// An unknown user costs a dummy hash and gets the same error as a wrong password.
    public func login(username: String, password: String, remoteAddress: String) async throws -> LoginOutcome {
        switch try await checkPassword(username: username, password: password, remoteAddress: remoteAddress) {
        case .secondFactorRequired(_, let token):
            return .mfaRequired(mfaToken: token, methods: ["totp"])
        case .authenticated(let user):
            let now = clock()
            let pair = try await startSession(for: user, scope: Self.defaultScope, now: now)
            try await audit("login.success", actor: user.id, subject: user.username, address: remoteAddress, at: now)
            return .tokens(pair)
        }
    }

    /// What a correct password leads to.
    public enum PasswordCheck: Sendable {
        /// Logged in with the password alone.
        case authenticated(User)
        /// The password was right; the second factor is still due, with this `mfa_token`.
        case secondFactorRequired(User, mfaToken: String)
    }

    /// The first login step shared by the REST login and the browser login page: throttles,
    /// a dummy hash for unknown users, rehash-on-login, and the MFA challenge when TOTP is active.
    public func checkPassword(username: String, password: String, remoteAddress: String) async throws -> PasswordCheck {
        let now = clock()
        guard !username.isEmpty, !password.isEmpty else {
            throw PortcullisError.invalidRequest("username and password are required")
        }
        guard password.utf8.count <= AccountRules.maximumPasswordBytes, username.utf8.count <= 256 else {
            throw PortcullisError.invalidRequest("username or password too long")
        }
        try checkAddress(remoteAddress, now: now)
        let accountKey = username.lowercased()
        let lockout = try await store.lockoutState(key: accountKey)
        if let until = lockout.lockedUntil, until > now {
            try await audit("login.throttled", actor: "anonymous", subject: username, address: remoteAddress, at: now)
            throw PortcullisError.throttled(retryAfter: secondsUntil(until, from: now))
        }

        let user = try await store.user(username: username)
        let passwordMatches: Bool
        if let user {
            passwordMatches = try await hasher.verify(password, against: user.passwordHash)
        } else {
            passwordMatches = try await hasher.verifyUnknownUser(password)
        }
        guard let user, passwordMatches, !user.disabled else {
            let reason = user == nil ? "unknown user" : (passwordMatches ? "user disabled" : "wrong password")
            try await recordFailure(accountKey: accountKey, address: remoteAddress, now: now)
            try await audit("login.failure", actor: "anonymous", subject: username, address: remoteAddress, detail: reason, at: now)
            throw PortcullisError.invalidCredentials
        }
        if hasher.needsRehash(user.passwordHash) {
            let upgraded = try await hasher.hash(password)
            try await store.updatePasswordHash(userID: user.id, hash: upgraded, at: now)
            try await audit("password.rehash", actor: user.id, subject: user.username, address: remoteAddress, at: now)
        }
        if let credential = try await store.totpCredential(userID: user.id), credential.isActive {
            let token = try await startMFAChallenge(for: user, now: now)
            try await audit("login.password_ok", actor: user.id, subject: user.username, address: remoteAddress, detail: "mfa required", at: now)
            return .secondFactorRequired(user, mfaToken: token)
        }
        if lockout.failures > 0 { _ = try await store.clearLockout(key: accountKey) }
        return .authenticated(user)
    }

    /// Rotates a refresh token: the old one dies, a new pair of the same family is returned.
    ///
    /// Presenting a token that was already used revokes the whole family.
    public func refresh(refreshToken: String, remoteAddress: String) async throws -> TokenPair {
        let now = clock()
        guard !refreshToken.isEmpty, refreshToken.utf8.count <= 512 else {
            throw PortcullisError.invalidRequest("refresh_token is required")
        }
        try checkAddress(remoteAddress, now: now)
        let newToken = SecureRandom.token()
        let successor = RefreshTokenRecord(
            tokenHash: Self.hash(newToken), familyID: "", issuedAt: now,
            expiresAt: now.addingTimeInterval(configuration.refreshTokenTTL))
        let outcome = try await store.rotate(
            presentedHash: Self.hash(refreshToken), successor: successor, at: now,
            graceWindow: configuration.refreshGraceWindow)
        switch outcome {
        case .rotated(let family, let graceRetry):
            guard let user = try await store.user(id: family.userID), !user.disabled else {
                _ = try await store.revokeFamily(id: family.id, reason: "user_unavailable", at: now)
                throw PortcullisError.invalidToken("refresh token is not valid")
            }
            let access = try await accessToken(for: user, familyID: family.id, scope: family.scope, now: now)
            metrics.tokenIssued(grant: "refresh_token")
            try await audit(graceRetry ? "token.refresh.grace" : "token.refresh", actor: user.id, subject: family.id, address: remoteAddress, at: now)
            return TokenPair(accessToken: access, expiresIn: Int(configuration.accessTokenTTL), refreshToken: newToken, scope: family.scope)
        case .reused(let familyID):
            addressThrottle.recordFailure(address: remoteAddress, now: now)
            try await audit("token.reuse", actor: "anonymous", subject: familyID, address: remoteAddress, detail: "family revoked", at: now)
            throw PortcullisError.refreshTokenReused
        case .unknown, .expired, .revoked:
            addressThrottle.recordFailure(address: remoteAddress, now: now)
            throw PortcullisError.invalidToken("refresh token is not valid")
        }
    }

    /// Ends the session of a refresh token: its family and the family's access tokens are revoked.
    ///
    /// An unknown token changes nothing and is not an error (RFC 7009 behaviour).
    public func logout(refreshToken: String, remoteAddress: String) async throws {
        let now = clock()
        guard !refreshToken.isEmpty, refreshToken.utf8.count <= 512 else {
            throw PortcullisError.invalidRequest("refresh_token is required")
        }
        guard let family = try await store.family(ofTokenHash: Self.hash(refreshToken)) else { return }
        if try await store.revokeFamily(id: family.id, reason: "logout", at: now) {
            try await audit("logout", actor: family.userID, subject: family.id, address: remoteAddress, at: now)
        }
    }

    /// The claims of a valid, live access token, or nil for anything else (garbage included).
    ///
    /// Live means: good signature under a live key, right type and issuer, in its time
    /// window, not revoked by `jti`, its session not revoked, its user present and enabled.
    public func introspect(_ token: String) async throws -> AccessTokenClaims? {
        guard let claims = try? signer.verify(token, now: clock()) else { return nil }
        guard try await isLive(claims) else { return nil }
        return claims
    }

    /// The user behind a bearer access token of the REST login; throws `invalidToken` unless it is live.
    public func authenticate(bearer token: String) async throws -> (user: User, claims: AccessTokenClaims) {
        guard let claims = try await introspect(token), claims.clientID == nil, claims.username != nil,
              let user = try await store.user(id: claims.sub) else {
            throw PortcullisError.invalidToken("access token is not valid")
        }
        return (user, claims)
    }

    /// Changes a password after checking the current one; ends the user's other sessions.
    public func changePassword(user: User, currentSessionID: String?, currentPassword: String, newPassword: String, remoteAddress: String) async throws {
        let now = clock()
        try checkAddress(remoteAddress, now: now)
        let accountKey = user.username.lowercased()
        if let until = try await store.lockoutState(key: accountKey).lockedUntil, until > now {
            throw PortcullisError.throttled(retryAfter: secondsUntil(until, from: now))
        }
        guard currentPassword.utf8.count <= AccountRules.maximumPasswordBytes,
              try await hasher.verify(currentPassword, against: user.passwordHash) else {
            try await recordFailure(accountKey: accountKey, address: remoteAddress, now: now)
            try await audit("password.change.failure", actor: user.id, subject: user.username, address: remoteAddress, at: now)
            throw PortcullisError.invalidCredentials
        }
        try AccountRules.validatePassword(newPassword)
        let hash = try await hasher.hash(newPassword)
        try await store.updatePasswordHash(userID: user.id, hash: hash, at: now)
        let ended = try await store.revokeFamilies(ofUserID: user.id, except: currentSessionID, reason: "password_change", at: now)
        try await audit("password.change", actor: user.id, subject: user.username, address: remoteAddress, detail: "ended \(ended) other sessions", at: now)
    }

    /// The user's effective roles now: database grants plus static bindings, closed under inheritance.
    public func roles(of user: User) async throws -> [String] {
        policies.current.effectiveRoles(subject: user.username, grantedRoles: try await store.roles(ofUserID: user.id))
    }

    /// Hex SHA-256 of a refresh token: the only form in which it is stored.
    public static func hash(_ token: String) -> String {
        Digest.sha256(token).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: - Internals

    func startSession(for user: User, scope: String, now: Date) async throws -> TokenPair {
        let refreshToken = SecureRandom.token()
        let family = TokenFamily(id: SecureRandom.token(byteCount: 16), userID: user.id, scope: scope, createdAt: now)
        let record = RefreshTokenRecord(
            tokenHash: Self.hash(refreshToken), familyID: family.id, issuedAt: now,
            expiresAt: now.addingTimeInterval(configuration.refreshTokenTTL))
        try await store.createFamily(family, firstToken: record)
        let access = try await accessToken(for: user, familyID: family.id, scope: scope, now: now)
        metrics.tokenIssued(grant: "password")
        return TokenPair(accessToken: access, expiresIn: Int(configuration.accessTokenTTL), refreshToken: refreshToken, scope: scope)
    }

    func accessToken(for user: User, familyID: String, scope: String, now: Date) async throws -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        let claims = AccessTokenClaims(
            iss: configuration.issuer, sub: user.id, aud: configuration.audience,
            exp: issuedAt + Int64(configuration.accessTokenTTL), iat: issuedAt, nbf: issuedAt,
            jti: SecureRandom.token(byteCount: 16), username: user.username,
            roles: try await roles(of: user), scope: scope, sid: familyID)
        return try signer.sign(claims)
    }

    func isLive(_ claims: AccessTokenClaims) async throws -> Bool {
        // User tokens carry a username; client-credentials tokens (subject = client id) do not.
        try await store.isAccessTokenLive(
            jti: claims.jti, sessionID: claims.sid, subject: claims.sub,
            requireUser: claims.username != nil || claims.clientID == nil)
    }

    func checkAddress(_ address: String, now: Date) throws {
        if let seconds = addressThrottle.retryAfter(address: address, now: now) {
            throw PortcullisError.throttled(retryAfter: seconds)
        }
    }

    func recordFailure(accountKey: String, address: String, now: Date) async throws {
        addressThrottle.recordFailure(address: address, now: now)
        let policy = accountPolicy
        _ = try await store.recordFailure(key: accountKey, at: now) { policy.lockout(afterFailures: $0) }
    }

    func audit(_ action: String, actor: String, subject: String?, address: String?, detail: String? = nil, at: Date) async throws {
        metrics.event(action)
        try await store.appendAudit(AuditEvent(at: at, action: action, actor: actor, subject: subject, remoteAddress: address, detail: detail))
    }
}
