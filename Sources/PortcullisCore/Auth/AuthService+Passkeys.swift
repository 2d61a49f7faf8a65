public import Foundation
import PortcullisCrypto
public import PortcullisWebAuthn

/// How a passkey sign-in ended: who signed in and what the authenticator proved.
public struct PasskeySignIn: Sendable {
    /// The user.
    public let user: User
    /// The passkey used.
    public let passkey: Passkey
    /// The authenticator verified the user (PIN, biometrics), not only their presence.
    public let userVerified: Bool

    /// RFC 8176 methods: `pop` (proof of possession of a key) and `user` (the presence test),
    /// and `mfa` when the authenticator also verified the user (PIN or biometrics). `hwk`/`swk`
    /// are not claimed: attestation is not verified, so where the key lives is not known.
    public var amr: [String] {
        ["pop", "user"] + (userVerified ? ["mfa"] : [])
    }

    /// `amr` when the passkey came after the password: two factors whatever the authenticator did.
    public var amrAfterPassword: [String] { ["pwd", "pop", "user", "mfa"] }
}

extension WebAuthnChallenge {
    /// `purpose` of a registration's challenge.
    static let registration = "register"
    /// `purpose` of a second factor's challenge.
    static let secondFactor = "mfa"
    /// `purpose` of a passwordless sign-in's challenge.
    static let passwordless = "login"
}

extension AuthService {
    /// Seconds a WebAuthn challenge stays usable (single use).
    public static let passkeyChallengeLifetime: TimeInterval = 300
    /// Passkeys one user may hold.
    public static let maximumPasskeys = 32

    /// The relying party every ceremony is checked against.
    var relyingParty: WebAuthnRelyingParty {
        WebAuthnRelyingParty(id: configuration.webAuthnRelyingPartyID, origins: configuration.webAuthnOrigins)
    }

    // MARK: - Registration (WebAuthn Level 2 section 7.1)

    /// Starts registering a passkey for a signed-in user: a fresh challenge, stored for five
    /// minutes (replacing any earlier one of this user), and the options for `navigator.credentials.create`.
    public func passkeyRegistrationOptions(user: User) async throws -> PublicKeyCredentialCreationOptionsJSON {
        let now = clock()
        let handle = try await store.ensureWebAuthnUserHandle(userID: user.id, candidate: SecureRandom.bytes(32))
        let existing = try await store.passkeys(userID: user.id)
        guard existing.count < Self.maximumPasskeys else {
            throw PortcullisError.conflict("at most \(Self.maximumPasskeys) passkeys per user")
        }
        let challenge = SecureRandom.bytes(32)
        try await store.saveWebAuthnChallenge(WebAuthnChallenge(
            key: Self.registrationKey(userID: user.id), purpose: WebAuthnChallenge.registration, userID: user.id, challenge: challenge,
            expiresAt: now.addingTimeInterval(Self.passkeyChallengeLifetime)))
        return relyingParty.creationOptions(
            rpName: configuration.totpIssuer, userHandle: handle, userName: user.username, displayName: user.username, challenge: challenge,
            timeout: Self.passkeyTimeout, excludeCredentials: existing.map { .init(credentialID: $0.credentialID, transports: $0.transports) })
    }

    /// Finishes a registration: the credential must answer this user's pending challenge, come
    /// from an allowed origin for this relying party, and carry a key Portcullis accepts. Nothing
    /// is stored otherwise.
    public func registerPasskey(user: User, credential: PublicKeyCredentialJSON, name: String?, remoteAddress: String) async throws -> Passkey {
        let now = clock()
        let label = try Self.passkeyName(name, default: "Passkey")
        guard let challenge = try await store.consumeWebAuthnChallenge(key: Self.registrationKey(userID: user.id)),
              challenge.purpose == WebAuthnChallenge.registration, challenge.userID == user.id, challenge.expiresAt > now else {
            throw PortcullisError.invalidRequest("no passkey registration is in progress (or it expired): ask for options first")
        }
        let verified: VerifiedRegistration
        do {
            verified = try relyingParty.verifyRegistration(credential, expectedChallenge: challenge.challenge, requireUserVerification: false)
        } catch let error {
            try await audit("passkey.register.failure", actor: user.id, subject: user.username, address: remoteAddress,
                            detail: error.description, at: now)
            throw PortcullisError.invalidRequest("the passkey was not accepted: \(error.description)")
        }
        let passkey = Passkey(
            id: Base64URL.encode(SecureRandom.bytes(16)), userID: user.id, credentialID: verified.credentialID, publicKey: verified.publicKey,
            algorithm: verified.algorithm, signCount: verified.signCount, transports: verified.transports,
            backupEligible: verified.backupEligible, backedUp: verified.backedUp, name: label, createdAt: now, lastUsedAt: nil,
            flaggedAt: nil, aaguid: verified.aaguid, attestationFormat: verified.attestationFormat)
        try await store.addPasskey(passkey)
        try await audit("passkey.register", actor: user.id, subject: user.username, address: remoteAddress,
                        detail: "\(passkey.id) (\(verified.attestationFormat), alg \(verified.algorithm))", at: now)
        return passkey
    }

    /// The user's passkeys, oldest first.
    public func passkeys(of user: User) async throws -> [Passkey] {
        try await store.passkeys(userID: user.id)
    }

    /// Renames one of the user's passkeys.
    public func renamePasskey(user: User, id: String, name: String, remoteAddress: String) async throws {
        let label = try Self.passkeyName(name, default: nil)
        guard try await store.renamePasskey(id: id, userID: user.id, name: label) else { throw PortcullisError.notFound("no such passkey") }
        try await audit("passkey.rename", actor: user.id, subject: user.username, address: remoteAddress, detail: id, at: clock())
    }

    /// Removes one of the user's passkeys after checking the password again, under the account lockout.
    public func removePasskey(user: User, id: String, password: String?, remoteAddress: String) async throws {
        let now = clock()
        guard let password, !password.isEmpty, password.utf8.count <= AccountRules.maximumPasswordBytes else {
            throw PortcullisError.invalidRequest("the password is required to remove a passkey")
        }
        try await checkAddress(remoteAddress, now: now)
        let attempt = try await reserveAttempt(accountKey: user.username.lowercased(), now: now)
        guard try await hasher.verify(password, against: user.passwordHash) else {
            try await attemptFailed(attempt, action: "passkey.remove.failure", actor: user.id, subject: user.username, address: remoteAddress, now: now)
            throw PortcullisError.invalidCredentials
        }
        try await releaseAttempt(attempt)
        guard try await store.deletePasskey(id: id, userID: user.id) else { throw PortcullisError.notFound("no such passkey") }
        try await audit("passkey.remove", actor: user.id, subject: user.username, address: remoteAddress, detail: id, at: now)
    }

    // MARK: - Passkey as the second factor (after the password)

    /// The assertion options for a live `mfa_token` whose user has passkeys: their credentials in
    /// `allowCredentials` and a challenge bound to that token (replacing an earlier one).
    public func passkeySecondFactorOptions(mfaToken: String, remoteAddress: String) async throws -> PublicKeyCredentialRequestOptionsJSON {
        let now = clock()
        let (tokenHash, pending, user) = try await pendingSecondFactor(mfaToken: mfaToken, remoteAddress: remoteAddress, now: now)
        let passkeys = try await store.passkeys(userID: user.id).filter { $0.flaggedAt == nil }
        guard !passkeys.isEmpty else { throw PortcullisError.invalidRequest("this account has no passkey; use a TOTP or recovery code") }
        let challenge = SecureRandom.bytes(32)
        try await store.saveWebAuthnChallenge(WebAuthnChallenge(
            key: Self.secondFactorKey(tokenHash: tokenHash), purpose: WebAuthnChallenge.secondFactor, userID: user.id, challenge: challenge,
            expiresAt: min(pending.expiresAt, now.addingTimeInterval(Self.passkeyChallengeLifetime))))
        return requestOptions(challenge: challenge, allow: passkeys.map { ($0.credentialID, $0.transports) }, userVerification: .preferred)
    }

    /// The second login step with a passkey: the assertion must answer the challenge bound to this
    /// `mfa_token` with one of its user's passkeys. Returns the user; the token is consumed.
    public func verifyPasskeySecondFactor(mfaToken: String, credential: PublicKeyCredentialJSON, remoteAddress: String) async throws -> PasskeySignIn {
        let now = clock()
        let (tokenHash, _, user) = try await pendingSecondFactor(mfaToken: mfaToken, remoteAddress: remoteAddress, now: now)
        let attempt = try await reserveAttempt(accountKey: user.username.lowercased(), now: now)
        let challenge = try await store.consumeWebAuthnChallenge(key: Self.secondFactorKey(tokenHash: tokenHash))
        let signIn: PasskeySignIn
        do {
            guard let challenge, challenge.purpose == WebAuthnChallenge.secondFactor, challenge.userID == user.id, challenge.expiresAt > now else {
                throw PasskeyRefusal("no passkey challenge for this mfa_token (ask for options first; each is single-use)")
            }
            signIn = try await checkAssertion(credential, by: try await storedPasskey(of: credential), challenge: challenge.challenge,
                                              user: user, requireUserVerification: false, remoteAddress: remoteAddress, now: now)
        } catch let refusal as PasskeyRefusal {
            _ = try await store.recordMFAChallengeFailure(tokenHash: tokenHash, maxFailures: Self.challengeMaxFailures)
            try await attemptFailed(attempt, action: "mfa.failure", actor: user.id, subject: user.username, address: remoteAddress,
                                    detail: "passkey: \(refusal.reason)", now: now)
            throw PortcullisError.invalidCredentials
        }
        guard try await store.consumeMFAChallenge(tokenHash: tokenHash) else { throw PortcullisError.invalidToken("mfa_token is not valid") }
        try await releaseAttempt(attempt)
        try await audit("mfa.success", actor: user.id, subject: user.username, address: remoteAddress, detail: "passkey \(signIn.passkey.id)", at: now)
        return signIn
    }

    /// `verifyPasskeySecondFactor`, then a first-party session.
    public func completeLogin(mfaToken: String, credential: PublicKeyCredentialJSON, remoteAddress: String) async throws -> TokenPair {
        let signIn = try await verifyPasskeySecondFactor(mfaToken: mfaToken, credential: credential, remoteAddress: remoteAddress)
        let now = clock()
        let pair = try await startSession(for: signIn.user, scope: Self.defaultScope, now: now)
        try await audit("login.success", actor: signIn.user.id, subject: signIn.user.username, address: remoteAddress, detail: "password + passkey", at: now)
        return pair
    }

    // MARK: - Passwordless sign-in (discoverable credentials)

    /// Starts a passwordless sign-in: a challenge bound to a new `webauthn_token`. Without a
    /// username, `allowCredentials` is empty (the authenticator offers its discoverable
    /// credentials). With one, it lists that user's passkeys, and for a name with none (unknown,
    /// or no passkey) stable decoy ids derived from the name, so the answer does not tell who exists.
    /// Each call stores a challenge: one address may make `passwordlessChallenges.perMinute` a
    /// minute (then `throttled`).
    public func passwordlessOptions(username: String?, remoteAddress: String) async throws -> (options: PublicKeyCredentialRequestOptionsJSON, token: String) {
        let now = clock()
        try await checkAddress(remoteAddress, now: now)
        if let seconds = passwordlessChallenges.spend(address: AddressThrottle.key(for: remoteAddress), now: now) {
            metrics.event("passkey.options.throttled")
            throw PortcullisError.throttled(retryAfter: seconds)
        }
        var allow: [(id: [UInt8], transports: [String])] = []
        var userID: String?
        if let username, !username.isEmpty {
            guard username.utf8.count <= 256 else { throw PortcullisError.invalidRequest("username too long") }
            if let user = try await store.user(username: username), !user.disabled {
                let passkeys = try await store.passkeys(userID: user.id).filter { $0.flaggedAt == nil }
                if !passkeys.isEmpty {
                    allow = passkeys.map { ($0.credentialID, $0.transports) }
                    userID = user.id
                }
            }
            if allow.isEmpty { allow = [(decoyCredentialID(username: username), ["internal", "hybrid"])] }
        }
        let token = SecureRandom.token()
        let challenge = SecureRandom.bytes(32)
        try await store.saveWebAuthnChallenge(WebAuthnChallenge(
            key: Self.passwordlessKey(token: token), purpose: WebAuthnChallenge.passwordless, userID: userID, challenge: challenge,
            expiresAt: now.addingTimeInterval(Self.passkeyChallengeLifetime)))
        return (requestOptions(challenge: challenge, allow: allow, userVerification: .required), token)
    }

    /// Finishes a passwordless sign-in. Every failure is the same `invalidCredentials`; the reason
    /// goes to the audit log. The user is the passkey's owner, which the assertion's user handle
    /// (required when no username was given) must confirm; user verification is required, since
    /// the passkey is the only factor.
    public func passwordlessSignIn(token: String, credential: PublicKeyCredentialJSON, remoteAddress: String) async throws -> PasskeySignIn {
        let now = clock()
        guard !token.isEmpty, token.utf8.count <= 256 else { throw PortcullisError.invalidRequest("webauthn_token is required") }
        try await checkAddress(remoteAddress, now: now)
        guard let challenge = try await store.consumeWebAuthnChallenge(key: Self.passwordlessKey(token: token)),
              challenge.purpose == WebAuthnChallenge.passwordless, challenge.expiresAt > now,
              let passkey = try await storedPasskey(of: credential),
              let user = try await store.user(id: passkey.userID),
              challenge.userID == nil || challenge.userID == user.id else {
            try await addressFailed(remoteAddress, now: now)
            try await audit("login.failure", actor: "anonymous", subject: nil, address: remoteAddress,
                            detail: "passkey: unknown credential, or no live challenge for this webauthn_token", at: now)
            throw PortcullisError.invalidCredentials
        }
        let attempt = try await reserveAttempt(accountKey: user.username.lowercased(), now: now)
        do {
            guard !user.disabled else { throw PasskeyRefusal("user disabled") }
            let handle = try await store.webAuthnUserHandle(userID: user.id)
            if let given = credential.response.userHandle.flatMap(Base64URL.decode) {
                guard let handle, ConstantTime.equals(given, handle) else { throw PasskeyRefusal("the user handle is not the passkey owner's") }
            } else if challenge.userID == nil {
                throw PasskeyRefusal("no user handle in a discoverable-credential assertion")
            }
            let signIn = try await checkAssertion(credential, by: passkey, challenge: challenge.challenge, user: user,
                                                  requireUserVerification: true, remoteAddress: remoteAddress, now: now)
            try await releaseAttempt(attempt)
            try await audit("login.success", actor: user.id, subject: user.username, address: remoteAddress, detail: "passkey \(passkey.id)", at: now)
            return signIn
        } catch let refusal as PasskeyRefusal {
            try await attemptFailed(attempt, action: "login.failure", actor: "anonymous", subject: user.username, address: remoteAddress,
                                    detail: "passkey: \(refusal.reason)", now: now)
            throw PortcullisError.invalidCredentials
        }
    }

    /// `passwordlessSignIn`, then a first-party session.
    public func passwordlessLogin(token: String, credential: PublicKeyCredentialJSON, remoteAddress: String) async throws -> TokenPair {
        let signIn = try await passwordlessSignIn(token: token, credential: credential, remoteAddress: remoteAddress)
        return try await startSession(for: signIn.user, scope: Self.defaultScope, now: clock())
    }

    /// True when the user has a passkey. A flagged one counts: flagging a passkey never weakens
    /// the user's sign-in to the password alone.
    public func hasPasskey(_ user: User) async throws -> Bool {
        try await store.passkeyCount(userID: user.id) > 0
    }

    // MARK: - Internals

    /// The live login challenge of an `mfa_token` and its enabled user; an unknown, expired or
    /// disabled one counts against the address and is `invalidToken`.
    func pendingSecondFactor(mfaToken: String, remoteAddress: String, now: Date) async throws -> (tokenHash: String, pending: MFAChallenge, user: User) {
        guard !mfaToken.isEmpty, mfaToken.utf8.count <= 256 else { throw PortcullisError.invalidRequest("mfa_token is required") }
        try await checkAddress(remoteAddress, now: now)
        let tokenHash = Self.hash(mfaToken)
        guard let pending = try await store.mfaChallenge(tokenHash: tokenHash), pending.expiresAt > now,
              let user = try await store.user(id: pending.userID), !user.disabled else {
            try await addressFailed(remoteAddress, now: now)
            throw PortcullisError.invalidToken("mfa_token is not valid")
        }
        return (tokenHash, pending, user)
    }

    /// A ceremony refused: the reason is audited, the client sees one error.
    struct PasskeyRefusal: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The stored passkey an assertion names by its credential id (`id` must equal `rawId`), if any.
    func storedPasskey(of credential: PublicKeyCredentialJSON) async throws -> Passkey? {
        guard let id = try? credential.credentialID(), id.count <= AttestedCredentialData.maximumCredentialIDLength else { return nil }
        return try await store.passkey(credentialID: id)
    }

    /// Checks an assertion by `passkey` (looked up once, by the caller), which must be one of
    /// `user`'s, and moves its sign count forward (compare and set: of two uses of one assertion,
    /// one wins). A counter that did not increase flags the passkey as possibly cloned: refused,
    /// audited and logged for the operator.
    func checkAssertion(_ credential: PublicKeyCredentialJSON, by passkey: Passkey?, challenge: [UInt8], user: User,
                        requireUserVerification: Bool, remoteAddress: String, now: Date) async throws -> PasskeySignIn {
        guard let passkey, passkey.userID == user.id else { throw PasskeyRefusal("the credential is not one of this user's passkeys") }
        guard passkey.flaggedAt == nil else { throw PasskeyRefusal("passkey \(passkey.id) is flagged as possibly cloned") }
        let verified: VerifiedAuthentication
        do {
            verified = try relyingParty.verifyAuthentication(
                credential, expectedChallenge: challenge, credentialPublicKey: passkey.publicKey, storedSignCount: passkey.signCount,
                requireUserVerification: requireUserVerification)
        } catch {
            if case .signCountNotIncreasing = error {
                _ = try await store.flagPasskey(id: passkey.id, at: now)
                try await audit("passkey.cloned", actor: "system", subject: user.username, address: remoteAddress,
                                detail: "passkey \(passkey.id): \(error.description); refused until removed", at: now)
            }
            throw PasskeyRefusal(error.description)
        }
        guard try await store.advancePasskeySignCount(id: passkey.id, from: passkey.signCount, to: verified.signCount, at: now) else {
            throw PasskeyRefusal("passkey \(passkey.id) was used concurrently")
        }
        return PasskeySignIn(user: user, passkey: passkey, userVerified: verified.userVerified)
    }

    func requestOptions(challenge: [UInt8], allow: [(id: [UInt8], transports: [String])],
                        userVerification: WebAuthnRequirement) -> PublicKeyCredentialRequestOptionsJSON {
        relyingParty.requestOptions(challenge: challenge, timeout: Self.passkeyTimeout,
                                    allowCredentials: allow.map { .init(credentialID: $0.id, transports: $0.transports) },
                                    userVerification: userVerification)
    }

    /// The browser's timeout for a ceremony, in milliseconds: the challenge's lifetime.
    static var passkeyTimeout: UInt32 { UInt32(passkeyChallengeLifetime * 1000) }

    /// A stable credential id for a name with no passkey: HMAC of the name under a key derived
    /// from the secrets key, so it is the same on every request and every replica.
    func decoyCredentialID(username: String) -> [UInt8] {
        let key = HMAC.authenticationCode(.sha256, key: secrets.keys[0], message: Array("portcullis-passkey-decoy".utf8))
        return HMAC.authenticationCode(.sha256, key: key, message: Array(username.lowercased().utf8))
    }

    static func registrationKey(userID: String) -> String { "register:" + userID }
    static func secondFactorKey(tokenHash: String) -> String { "mfa:" + tokenHash }
    static func passwordlessKey(token: String) -> String { "login:" + hash(token) }

    /// A passkey's name: 1–64 printable characters, trimmed; `default` when none is given.
    static func passkeyName(_ name: String?, default fallback: String?) throws -> String {
        let trimmed = name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if trimmed.isEmpty, let fallback { return fallback }
        guard (1...64).contains(trimmed.count), !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw PortcullisError.invalidRequest("a passkey name is 1 to 64 printable characters")
        }
        return trimmed
    }
}
