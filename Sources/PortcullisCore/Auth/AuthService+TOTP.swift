public import Foundation
public import PortcullisCrypto

/// What a user gets when TOTP enrolment starts: the secret, once, in the forms apps take.
public struct TOTPEnrolment: Sendable, Equatable {
    /// Base32 secret for manual entry.
    public var secret: String
    /// `otpauth://totp/ISSUER:USER?secret=…&issuer=…&algorithm=…&digits=…&period=…`.
    public var otpauthURI: String
    /// Code parameters.
    public var parameters: TOTP
}

extension AuthService {
    /// Seconds an unconfirmed enrolment stays confirmable.
    public static let enrolmentLifetime: TimeInterval = 600
    /// Seconds an `mfa_token` lives.
    public static let challengeLifetime: TimeInterval = 300
    /// Wrong codes that kill an `mfa_token`.
    public static let challengeMaxFailures = 5
    /// Recovery codes issued at confirmation.
    public static let recoveryCodeCount = 10

    /// Starts (or restarts) TOTP enrolment with a fresh 160-bit secret; refuses while TOTP is active.
    public func enrolTOTP(user: User, parameters: TOTP = .standard, remoteAddress: String) async throws -> TOTPEnrolment {
        guard [6, 8].contains(parameters.digits), parameters.period == 30 else {
            throw PortcullisError.invalidRequest("digits must be 6 or 8 and period 30")
        }
        let now = clock()
        let secret = SecureRandom.bytes(20)
        let sealed = try secrets.seal(secret, associatedData: Self.associatedData(userID: user.id)).box
        try await store.saveTOTPEnrolment(TOTPCredential(userID: user.id, sealedSecret: sealed, parameters: parameters, createdAt: now))
        try await audit("mfa.enrol", actor: user.id, subject: user.username, address: remoteAddress, at: now)
        let encoded = Base32.encode(secret)
        return TOTPEnrolment(secret: encoded, otpauthURI: otpauthURI(username: user.username, secret: encoded, parameters: parameters), parameters: parameters)
    }

    /// Activates a pending enrolment with a valid current code; returns the recovery codes, shown once.
    public func confirmTOTP(user: User, code: String, remoteAddress: String) async throws -> [String] {
        let now = clock()
        try await checkAddress(remoteAddress, now: now)
        guard let credential = try await store.totpCredential(userID: user.id), !credential.isActive else {
            throw PortcullisError.invalidRequest("no pending TOTP enrolment; start one first")
        }
        guard now.timeIntervalSince(credential.createdAt) <= Self.enrolmentLifetime else {
            _ = try await store.deleteTOTP(userID: user.id)
            throw PortcullisError.invalidRequest("the enrolment expired; start again")
        }
        let attempt = try await reserveAttempt(accountKey: user.username.lowercased(), now: now)
        guard let step = try matchingStep(credential, code: code, now: now) else {
            try await attemptFailed(attempt, action: "mfa.confirm.failure", actor: user.id, subject: user.username, address: remoteAddress, now: now)
            throw PortcullisError.invalidRequest("invalid code")
        }
        try await releaseAttempt(attempt)
        let codes = (0..<Self.recoveryCodeCount).map { _ in Self.makeRecoveryCode() }
        guard try await store.confirmTOTP(userID: user.id, at: now, step: step, recoveryCodeHashes: codes.map(Self.recoveryCodeHash)) else {
            throw PortcullisError.conflict("TOTP was confirmed or removed concurrently")
        }
        try await audit("mfa.confirm", actor: user.id, subject: user.username, address: remoteAddress, at: now)
        return codes
    }

    /// Removes TOTP after checking the password and a current code or a recovery code, under the
    /// account lockout; ends the user's other token sessions and every browser session.
    public func removeTOTP(user: User, currentSessionID: String?, code: String?, password: String?, remoteAddress: String) async throws {
        let now = clock()
        guard let password, !password.isEmpty, password.utf8.count <= AccountRules.maximumPasswordBytes,
              let code, !code.isEmpty, code.utf8.count <= 64 else {
            throw PortcullisError.invalidRequest("the password and a current code or a recovery code are required")
        }
        try await checkAddress(remoteAddress, now: now)
        guard let credential = try await store.totpCredential(userID: user.id) else {
            throw PortcullisError.notFound("TOTP is not enrolled")
        }
        let attempt = try await reserveAttempt(accountKey: user.username.lowercased(), now: now)
        // The password first: a wrong one must not spend the code.
        var proven = try await hasher.verify(password, against: user.passwordHash)
        if proven { proven = try await acceptSecondFactor(credential, code: code, now: now) != nil }
        guard proven else {
            try await attemptFailed(attempt, action: "mfa.remove.failure", actor: user.id, subject: user.username, address: remoteAddress, now: now)
            throw PortcullisError.invalidCredentials
        }
        try await releaseAttempt(attempt)
        _ = try await store.deleteTOTP(userID: user.id)
        let ended = try await store.endSessions(ofUserID: user.id, exceptFamily: currentSessionID, reason: "mfa_removed", at: now)
        try await audit("mfa.remove", actor: user.id, subject: user.username, address: remoteAddress,
                        detail: "ended \(ended.families) other sessions and \(ended.browserSessions) browser sessions", at: now)
    }

    /// The second login step: a TOTP code or a recovery code for a live `mfa_token`.
    public func completeLogin(mfaToken: String, code: String, remoteAddress: String) async throws -> TokenPair {
        let user = try await verifySecondFactor(mfaToken: mfaToken, code: code, remoteAddress: remoteAddress)
        let now = clock()
        let pair = try await startSession(for: user, scope: Self.defaultScope, now: now)
        try await audit("login.success", actor: user.id, subject: user.username, address: remoteAddress, detail: "mfa", at: now)
        return pair
    }

    /// Checks the second factor for a live `mfa_token` and consumes the token; returns the user.
    ///
    /// Shared by the REST login and the browser MFA page.
    public func verifySecondFactor(mfaToken: String, code: String, remoteAddress: String) async throws -> User {
        let now = clock()
        guard !mfaToken.isEmpty, mfaToken.utf8.count <= 256, !code.isEmpty, code.utf8.count <= 64 else {
            throw PortcullisError.invalidRequest("mfa_token and code are required")
        }
        try await checkAddress(remoteAddress, now: now)
        let tokenHash = Self.hash(mfaToken)
        guard let challenge = try await store.mfaChallenge(tokenHash: tokenHash), challenge.expiresAt > now,
              let user = try await store.user(id: challenge.userID), !user.disabled,
              let credential = try await store.totpCredential(userID: user.id), credential.isActive else {
            try await addressFailed(remoteAddress, now: now)
            throw PortcullisError.invalidToken("mfa_token is not valid")
        }
        let attempt = try await reserveAttempt(accountKey: user.username.lowercased(), now: now)
        guard let method = try await acceptSecondFactor(credential, code: code, now: now) else {
            _ = try await store.recordMFAChallengeFailure(tokenHash: tokenHash, maxFailures: Self.challengeMaxFailures)
            try await attemptFailed(attempt, action: "mfa.failure", actor: user.id, subject: user.username, address: remoteAddress, now: now)
            throw PortcullisError.invalidCode
        }
        let usedRecoveryCode = method == .recoveryCode
        guard try await store.consumeMFAChallenge(tokenHash: tokenHash) else {
            throw PortcullisError.invalidToken("mfa_token is not valid")
        }
        try await releaseAttempt(attempt)
        if usedRecoveryCode {
            let left = try await store.remainingRecoveryCodes(userID: user.id)
            try await audit("mfa.recovery_code", actor: user.id, subject: user.username, address: remoteAddress, detail: "\(left) left", at: now)
        }
        try await audit("mfa.success", actor: user.id, subject: user.username, address: remoteAddress, at: now)
        return user
    }

    /// The second factors the user has: `totp` when TOTP is active, `webauthn` with a usable passkey.
    public func secondFactorMethods(of user: User) async throws -> [String] {
        var methods: [String] = []
        if try await hasActiveTOTP(user) { methods.append("totp") }
        if try await hasPasskey(user) { methods.append("webauthn") }
        return methods
    }

    /// True when TOTP is active for the user.
    public func hasActiveTOTP(_ user: User) async throws -> Bool {
        try await store.totpCredential(userID: user.id)?.isActive ?? false
    }

    // MARK: - Internals

    func startMFAChallenge(for user: User, now: Date) async throws -> String {
        let token = SecureRandom.token()
        try await store.createMFAChallenge(MFAChallenge(tokenHash: Self.hash(token), userID: user.id, expiresAt: now.addingTimeInterval(Self.challengeLifetime)))
        return token
    }

    /// How a second factor was proven.
    enum SecondFactorMethod {
        case totp
        case recoveryCode
    }

    /// Accepts a current TOTP code (claiming its step) or an unused recovery code (consuming it); nil if neither.
    func acceptSecondFactor(_ credential: TOTPCredential, code: String, now: Date) async throws -> SecondFactorMethod? {
        if code.allSatisfy(\.isNumber), code.count == credential.parameters.digits {
            return try await acceptCode(credential, code: code, now: now) ? .totp : nil
        }
        return try await store.consumeRecoveryCode(userID: credential.userID, codeHash: Self.recoveryCodeHash(code), at: now) ? .recoveryCode : nil
    }

    /// Checks a code in the ±1 step window and claims its step atomically (the replay guard).
    func acceptCode(_ credential: TOTPCredential, code: String, now: Date) async throws -> Bool {
        guard let step = try matchingStep(credential, code: code, now: now) else { return false }
        if let last = credential.lastUsedStep, step <= last { return false }
        return try await store.advanceTOTPStep(userID: credential.userID, to: step)
    }

    func matchingStep(_ credential: TOTPCredential, code: String, now: Date) throws -> Int64? {
        let secret = try secrets.open(credential.sealedSecret, keyID: nil, associatedData: Self.associatedData(userID: credential.userID))
        let parameters = credential.parameters
        return parameters.matchingStep(secret: secret, candidate: code, around: parameters.step(at: Int64(now.timeIntervalSince1970)))
    }

    func otpauthURI(username: String, secret: String, parameters: TOTP) -> String {
        let issuer = configuration.totpIssuer
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let label = (issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer) + ":" + (username.addingPercentEncoding(withAllowedCharacters: allowed) ?? username)
        let issuerParameter = issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer
        return "otpauth://totp/\(label)?secret=\(secret)&issuer=\(issuerParameter)&algorithm=\(parameters.algorithm.rawValue)&digits=\(parameters.digits)&period=\(parameters.period)"
    }

    static func associatedData(userID: String) -> [UInt8] {
        Array("portcullis-totp:\(userID)".utf8)
    }

    /// 128 random bits as 26 base32 characters, grouped for reading: `abcd-efgh-ijkl-mnop-qrst-uvwxyz`.
    static func makeRecoveryCode() -> String {
        let raw = Base32.encode(SecureRandom.bytes(16)).lowercased()
        var groups: [Substring] = []
        var rest = Substring(raw)
        while rest.count > 6 {
            groups.append(rest.prefix(4))
            rest = rest.dropFirst(4)
        }
        groups.append(rest)
        return groups.joined(separator: "-")
    }

    /// Recovery codes are compared without case, dashes or spaces, by hex SHA-256.
    static func recoveryCodeHash(_ code: String) -> String {
        hash(code.lowercased().filter { $0 != "-" && $0 != " " })
    }
}
