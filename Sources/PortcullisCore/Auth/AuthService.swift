public import Foundation
import PortcullisCrypto
import PortcullisPolicy

/// The stores `AuthService` (and the flows built on it) reads and writes.
public typealias AuthServiceStore = UserStore & RoleGrantStore & SessionStore & AccountLockoutStore & AddressThrottleStore & AuditStore & MFAStore & PasskeyStore

/// Password login, refresh rotation, logout, token checks and password change.
///
/// HTTP-free: the server's controllers and the tests call it directly.
public final class AuthService: Sendable {
    /// Scope of tokens issued by the REST login.
    public static let defaultScope = "openid profile"

    let store: any AuthServiceStore
    let hasher: PasswordHasher
    let signer: AccessTokenSigner
    /// Mints every access, ID and refresh token.
    public let tokens: TokenIssuer
    let configuration: PortcullisConfiguration
    /// The per-address limit, counted in the store.
    let addressThrottle: AddressThrottle
    let accountPolicy: LockoutPolicy
    /// Seal the TOTP secrets (the first seals; every one opens).
    let secrets: KeyEncryptionKeys
    /// The policy in force: it turns database grants into effective roles.
    public let policies: PolicyProvider
    /// The time every decision and stored row uses (replaceable in tests).
    public let clock: @Sendable () -> Date
    /// Counters of events, tokens and decisions.
    public let metrics: PortcullisMetrics
    /// Passwordless challenges one address may make per minute (see `ChallengeBudget`).
    public let passwordlessChallenges = ChallengeBudget()

    /// Wires the service.
    public init(
        store: any AuthServiceStore,
        hasher: PasswordHasher,
        signer: AccessTokenSigner,
        configuration: PortcullisConfiguration,
        secrets: KeyEncryptionKeys,
        policies: PolicyProvider,
        metrics: PortcullisMetrics = PortcullisMetrics(),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.metrics = metrics
        self.secrets = secrets
        self.policies = policies
        self.store = store
        self.hasher = hasher
        self.signer = signer
        self.configuration = configuration
        self.addressThrottle = AddressThrottle(store: store, limitPerMinute: configuration.addressFailureLimit)
        self.accountPolicy = LockoutPolicy(threshold: configuration.accountFailureLimit)
        self.clock = clock
        self.tokens = TokenIssuer(signer: signer, keys: signer.keys, store: store, policies: policies, configuration: configuration, clock: clock)
    }

    /// Checks a username and password; starts a session, or asks for the second factor.
    ///
    /// An unknown user costs a dummy hash and gets the same error as a wrong password.
    public func login(username: String, password: String, remoteAddress: String) async throws -> LoginOutcome {
        switch try await checkPassword(username: username, password: password, remoteAddress: remoteAddress) {
        case .secondFactorRequired(_, let token, let methods):
            return .mfaRequired(mfaToken: token, methods: methods)
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
        /// The password was right; the second factor is still due, with this `mfa_token`, by one
        /// of `methods` (`totp` — a code or a recovery code — and `webauthn`, the user's passkeys).
        case secondFactorRequired(User, mfaToken: String, methods: [String])
    }

    /// The first login step shared by the REST login and the browser login page: throttles,
    /// a dummy hash for unknown users, rehash-on-login, and the MFA challenge when TOTP is active
    /// or the user has a passkey.
    ///
    /// The attempt is reserved on the account before the password is checked, so concurrent
    /// guesses never evaluate more than the lockout threshold.
    public func checkPassword(username: String, password: String, remoteAddress: String) async throws -> PasswordCheck {
        let now = clock()
        guard !username.isEmpty, !password.isEmpty else {
            throw PortcullisError.invalidRequest("username and password are required")
        }
        guard password.utf8.count <= AccountRules.maximumPasswordBytes, username.utf8.count <= 256 else {
            throw PortcullisError.invalidRequest("username or password too long")
        }
        try await checkAddress(remoteAddress, now: now)
        // No account can have such a name, so refusing it says nothing about who exists; it is
        // refused before any audit row, so control characters never reach the log.
        guard (try? AccountRules.validateUsername(username)) != nil else {
            try await addressFailed(remoteAddress, now: now)
            throw PortcullisError.invalidCredentials
        }
        let accountKey = username.lowercased()
        let attempt = try await reserveAttempt(accountKey: accountKey, now: now)

        let user = try await store.user(username: username)
        let passwordMatches: Bool
        if let user {
            passwordMatches = try await hasher.verify(password, against: user.passwordHash)
        } else {
            passwordMatches = try await hasher.verifyUnknownUser(password)
        }
        guard let user, passwordMatches, !user.disabled else {
            let reason = user == nil ? "unknown user" : (passwordMatches ? "user disabled" : "wrong password")
            try await attemptFailed(attempt, action: "login.failure", actor: "anonymous", subject: username, address: remoteAddress, detail: reason, now: now)
            throw PortcullisError.invalidCredentials
        }
        if hasher.needsRehash(user.passwordHash) {
            let upgraded = try await hasher.hash(password)
            try await store.updatePasswordHash(userID: user.id, hash: upgraded, at: now)
            try await audit("password.rehash", actor: user.id, subject: user.username, address: remoteAddress, at: now)
        }
        let methods = try await secondFactorMethods(of: user)
        if !methods.isEmpty {
            try await releaseAttempt(attempt)
            let token = try await startMFAChallenge(for: user, now: now)
            try await audit("login.password_ok", actor: user.id, subject: user.username, address: remoteAddress, detail: "mfa required", at: now)
            return .secondFactorRequired(user, mfaToken: token, methods: methods)
        }
        try await releaseAttempt(attempt)
        return .authenticated(user)
    }

    /// Rotates a first-party refresh token: the old one dies, a new pair of the same family is returned.
    ///
    /// Presenting a token that was already used revokes the whole family. A token of an OAuth
    /// client's family is refused with `invalid_grant` and nothing is consumed (RFC 9700 section 4.14).
    public func refresh(refreshToken: String, remoteAddress: String) async throws -> TokenPair {
        let now = clock()
        guard !refreshToken.isEmpty, refreshToken.utf8.count <= 512 else {
            throw PortcullisError.invalidRequest("refresh_token is required")
        }
        try await checkAddress(remoteAddress, now: now)
        let rotation = try await tokens.families.rotate(refreshToken, owner: .firstParty)
        switch rotation.outcome {
        case .rotated(let family, let graceRetry):
            guard let user = try await store.user(id: family.userID), !user.disabled else {
                _ = try await store.revokeFamily(id: family.id, reason: "user_unavailable", at: now)
                throw PortcullisError.invalidToken("refresh token is not valid")
            }
            let scope = Scope(parsing: family.scope)
            let access = try await tokens.accessToken(for: user, client: nil, scope: scope, resources: [], familyID: family.id)
            metrics.tokenIssued(grant: "refresh_token")
            try await audit(graceRetry ? "token.refresh.grace" : "token.refresh", actor: user.id, subject: family.id, address: remoteAddress, at: now)
            return TokenPair(accessToken: access, expiresIn: tokens.expiresIn, refreshToken: rotation.successor, scope: family.scope)
        case .wrongOwner:
            try await addressFailed(remoteAddress, now: now)
            try await audit("token.refresh.wrong_client", actor: "anonymous", subject: nil, address: remoteAddress,
                            detail: "an OAuth client's refresh token at the REST refresh", at: now)
            throw PortcullisError.invalidGrant("this refresh token was issued to an OAuth client; redeem it at its token endpoint")
        case .reused(let familyID):
            try await addressFailed(remoteAddress, now: now)
            try await auditReuse(familyID: familyID, actor: "anonymous", address: remoteAddress, at: now)
            throw PortcullisError.refreshTokenReused
        case .unknown, .expired, .revoked:
            try await addressFailed(remoteAddress, now: now)
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
        guard let family = try await store.family(ofTokenHash: Self.hash(refreshToken)), family.clientID == nil else { return }
        if try await store.revokeFamily(id: family.id, reason: "logout", at: now) {
            try await audit("logout", actor: family.userID, subject: family.id, address: remoteAddress, at: now)
        }
    }

    /// The claims of a valid, live access token, or nil for anything else (garbage included).
    ///
    /// Live means: good signature under a live key, right type and issuer, in its time
    /// window, not revoked by `jti`, its session not revoked, its client not deleted, its user
    /// present and enabled.
    public func introspect(_ token: String) async throws -> AccessTokenClaims? {
        guard let claims = await verifiedSignature(token) else { return nil }
        guard try await isLive(claims) else { return nil }
        return claims
    }

    /// `introspect`, and when `audience` is given, a token whose `aud` lacks it is inactive with that reason.
    public func verify(_ token: String, audience: String?) async throws -> TokenVerdict {
        if let verdict = try verifyImmediately(token, audience: audience) { return verdict }
        guard let claims = try await introspect(token) else { return .inactive }
        return Self.verdict(claims, audience: audience)
    }

    /// `verify` answered on the calling thread, or nil when it must wait: the token names a key
    /// this process has not loaded yet, or the store cannot answer its liveness without I/O. The
    /// hot path calls this on the event loop; `verify` starts with it.
    public func verifyImmediately(_ token: String, audience: String?) throws -> TokenVerdict? {
        try verifyReadingRolesImmediately(token, audience: audience, readingRoles: false)?.verdict
    }

    /// `verify`, reading in the same read the roles granted to the token's user (none for a
    /// token that is not a user's): the token form of `/v1/authorize`.
    public func verifyReadingRoles(_ token: String, audience: String?) async throws -> (verdict: TokenVerdict, grantedRoles: [String]) {
        if let answer = try verifyReadingRolesImmediately(token, audience: audience) { return answer }
        guard let claims = await verifiedSignature(token) else { return (.inactive, []) }
        let liveness = Self.livenessQuestion(claims)
        guard let roles = try await store.rolesIfAccessTokenLive(
            jti: liveness.jti, sessionID: liveness.sessionID, subject: liveness.subject, clientID: liveness.clientID,
            requireUser: liveness.requireUser, rolesOfUserID: claims.isUserToken ? claims.sub : nil) else { return (.inactive, []) }
        return (Self.verdict(claims, audience: audience), roles)
    }

    /// `verifyReadingRoles` answered on the calling thread, or nil when it must wait (see `verifyImmediately`).
    public func verifyReadingRolesImmediately(_ token: String, audience: String?, readingRoles: Bool = true) throws -> (verdict: TokenVerdict, grantedRoles: [String])? {
        let claims: AccessTokenClaims
        switch checkSignature(token) {
        case .valid(let verified): claims = verified
        case .invalid: return (.inactive, [])
        case .unknownKey: return nil
        }
        let liveness = Self.livenessQuestion(claims)
        switch try store.rolesIfAccessTokenLiveImmediately(
            jti: liveness.jti, sessionID: liveness.sessionID, subject: liveness.subject, clientID: liveness.clientID,
            requireUser: liveness.requireUser, rolesOfUserID: readingRoles && claims.isUserToken ? claims.sub : nil) {
        case .mustWait: return nil
        case .answered(nil): return (.inactive, [])
        case .answered(let roles?): return (Self.verdict(claims, audience: audience), roles)
        }
    }

    /// What a token's signature, type, issuer and times say, without waiting.
    enum SignatureCheck {
        case valid(AccessTokenClaims)
        case invalid
        /// Not valid under the keys loaded now, and it names a key this process has not seen.
        case unknownKey
    }

    func checkSignature(_ token: String) -> SignatureCheck {
        if let claims = try? signer.verify(token, now: clock()) { return .valid(claims) }
        return signer.namesUnknownKey(token) ? .unknownKey : .invalid
    }

    /// The token's claims when its signature, type, issuer and times hold. A token naming a key
    /// this process has not seen gets one reload of the keys first (rate-limited by the source).
    func verifiedSignature(_ token: String) async -> AccessTokenClaims? {
        switch checkSignature(token) {
        case .valid(let claims): return claims
        case .invalid: return nil
        case .unknownKey:
            guard await signer.keys.refreshForUnknownKey() else { return nil }
            return try? signer.verify(token, now: clock())
        }
    }

    static func verdict(_ claims: AccessTokenClaims, audience: String?) -> TokenVerdict {
        if let audience, !claims.aud.contains(audience) {
            return .otherAudience(claims, reason: "the token's audience does not include \(audience)")
        }
        return .active(claims)
    }

    /// The user behind a bearer access token for the account API (`/v1/me*`); throws `invalidToken`
    /// unless it is a live user token whose `aud` holds the issuer (a first-party token).
    public func authenticate(bearer token: String) async throws -> (user: User, claims: AccessTokenClaims) {
        guard let claims = try await introspect(token), claims.isUserToken, let user = try await store.user(id: claims.sub) else {
            throw PortcullisError.invalidToken("access token is not valid")
        }
        guard claims.aud.contains(configuration.issuer) else {
            throw PortcullisError.invalidToken("the account API takes first-party tokens only (aud must hold the issuer)")
        }
        return (user, claims)
    }

    /// Changes a password after checking the current one; ends the user's other token sessions and every browser session.
    public func changePassword(user: User, currentSessionID: String?, currentPassword: String, newPassword: String, remoteAddress: String) async throws {
        let now = clock()
        try await checkAddress(remoteAddress, now: now)
        let attempt = try await reserveAttempt(accountKey: user.username.lowercased(), now: now)
        guard currentPassword.utf8.count <= AccountRules.maximumPasswordBytes,
              try await hasher.verify(currentPassword, against: user.passwordHash) else {
            try await attemptFailed(attempt, action: "password.change.failure", actor: user.id, subject: user.username, address: remoteAddress, now: now)
            throw PortcullisError.invalidCredentials
        }
        try await releaseAttempt(attempt)
        try AccountRules.validatePassword(newPassword)
        let hash = try await hasher.hash(newPassword)
        try await store.updatePasswordHash(userID: user.id, hash: hash, at: now)
        let ended = try await store.endSessions(ofUserID: user.id, exceptFamily: currentSessionID, reason: "password_change", at: now)
        try await audit("password.change", actor: user.id, subject: user.username, address: remoteAddress,
                        detail: "ended \(ended.families) other sessions and \(ended.browserSessions) browser sessions", at: now)
    }

    /// The user's effective roles now: database grants plus static bindings, closed under inheritance.
    public func roles(of user: User) async throws -> [String] {
        policies.current.effectiveRoles(subject: user.username, grantedRoles: try await store.roles(ofUserID: user.id))
    }

    /// Hex SHA-256 of a refresh token: the only form in which it is stored.
    public static func hash(_ token: String) -> String {
        Hex.encode(Digest.sha256(token))
    }

    // MARK: - Internals

    func startSession(for user: User, scope: String, now: Date) async throws -> TokenPair {
        let granted = Scope(parsing: scope)
        let (family, refreshToken) = try await tokens.families.start(userID: user.id, owner: .firstParty, scope: granted, resources: [],
                                                                      issueRefreshToken: true)
        let access = try await tokens.accessToken(for: user, client: nil, scope: granted, resources: [], familyID: family.id)
        metrics.tokenIssued(grant: "password")
        return TokenPair(accessToken: access, expiresIn: tokens.expiresIn, refreshToken: refreshToken ?? "", scope: scope)
    }

    func isLive(_ claims: AccessTokenClaims) async throws -> Bool {
        let liveness = Self.livenessQuestion(claims)
        return try await store.isAccessTokenLive(jti: liveness.jti, sessionID: liveness.sessionID, subject: liveness.subject,
                                                 clientID: liveness.clientID, requireUser: liveness.requireUser)
    }

    /// What makes `claims` live (see `SessionStore.isAccessTokenLive`).
    static func livenessQuestion(_ claims: AccessTokenClaims) -> (jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool) {
        // User tokens carry a username; client-credentials tokens (subject = client id) do not.
        (claims.jti, claims.sid, claims.sub, claims.clientID, claims.isUserToken || claims.clientID == nil)
    }

    /// Refuses an address that is locked (a read; nothing is counted).
    func checkAddress(_ address: String, now: Date) async throws {
        if let seconds = try await addressThrottle.retryAfter(address: address, now: now) {
            metrics.event("address.throttled")
            throw PortcullisError.throttled(retryAfter: seconds)
        }
    }

    /// `checkAddress` on the calling thread; false when the store cannot answer without waiting.
    func checkAddressImmediately(_ address: String, now: Date) throws -> Bool {
        guard case .answered(let seconds) = try addressThrottle.retryAfterImmediately(address: address, now: now) else { return false }
        if let seconds {
            metrics.event("address.throttled")
            throw PortcullisError.throttled(retryAfter: seconds)
        }
        return true
    }

    /// Counts a failure against `address`; the failure that locks it is counted in the metrics.
    func addressFailed(_ address: String, now: Date) async throws {
        let state = try await addressThrottle.recordFailure(address: address, now: now)
        if state.failures == 0, let until = state.lockedUntil, until > now { metrics.event("address.locked") }
    }

    /// One reserved attempt on an account (see `AccountLockoutStore`).
    struct ReservedAttempt {
        let accountKey: String
        /// The counter with this attempt in it; `lockedUntil` set when it reached the threshold.
        let state: AccountLockoutState
    }

    /// Reserves an attempt before any secret is checked. A locked account is refused here, costing
    /// no Argon2 and no audit row: it is counted in the metrics, and the lock was audited once when set.
    func reserveAttempt(accountKey: String, now: Date) async throws -> ReservedAttempt {
        let policy = accountPolicy
        switch try await store.reserveAttempt(key: accountKey, at: now, resetAfter: policy.failureResetWindow,
                                              lockout: { policy.lockout(afterFailures: $0) }) {
        case .reserved(let state):
            return ReservedAttempt(accountKey: accountKey, state: state)
        case .locked(let until):
            metrics.event("account.throttled")
            throw PortcullisError.throttled(retryAfter: secondsUntil(until, from: now))
        }
    }

    /// The check of a reserved attempt succeeded: give back that attempt only. Other attempts'
    /// failures stand, so the owner's login in the middle of a burst frees no slot for the burst.
    func releaseAttempt(_ attempt: ReservedAttempt) async throws {
        try await store.releaseAttempt(key: attempt.accountKey, threshold: accountPolicy.threshold)
    }

    /// The check of a reserved attempt failed: it stays counted; the address is charged, the failure
    /// audited, and the lock it set (if any) audited once.
    func attemptFailed(_ attempt: ReservedAttempt, action: String, actor: String, subject: String, address: String,
                       detail: String? = nil, now: Date) async throws {
        try await addressFailed(address, now: now)
        try await audit(action, actor: actor, subject: subject, address: address, detail: detail, at: now)
        if let until = attempt.state.lockedUntil {
            try await audit("account.locked", actor: "system", subject: subject, address: address,
                            detail: "\(attempt.state.failures) failures; locked for \(secondsUntil(until, from: now)) s", at: now)
        }
    }

    /// Audits a refresh-token reuse under the family's user (so erasing the user pseudonymises it
    /// even after the janitor removed the family), naming the family in the detail.
    func auditReuse(familyID: String, actor: String, address: String?, at: Date) async throws {
        let userID = try await store.family(id: familyID)?.userID
        try await audit("token.reuse", actor: actor, subject: userID ?? familyID, address: address, detail: "family \(familyID) revoked", at: at)
    }

    func audit(_ action: String, actor: String, subject: String?, address: String?, detail: String? = nil, at: Date) async throws {
        metrics.event(action)
        try await store.appendAudit(AuditEvent(at: at, action: action, actor: actor, subject: subject, remoteAddress: address, detail: detail))
    }
}
