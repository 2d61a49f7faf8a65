public import Foundation
import PortcullisCrypto
public import PortcullisPolicy

/// A user as the admin CLI shows it (docs/CLI.md, `user show`).
public struct UserSummary: Codable, Sendable, Equatable {
    /// Stable id.
    public var id: String
    /// Login name.
    public var username: String
    /// E-mail, if any.
    public var email: String?
    /// True when the user cannot log in.
    public var disabled: Bool
    /// Granted roles.
    public var roles: [String]
    /// True when a second factor is active.
    public var mfa: Bool
    /// Creation time.
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, username, email, disabled, roles, mfa
        case createdAt = "created_at"
    }
}

/// The stores `UserAdministration` reads and writes.
public typealias UserAdministrationStore = UserStore & RoleGrantStore & SessionStore & AccountLockoutStore & AuditStore & MFAStore & PasskeyStore

/// The operations behind `portcullis user …` and `portcullis role …`; every change is audited.
public struct UserAdministration: Sendable {
    let store: any UserAdministrationStore
    let hasher: PasswordHasher
    let actor: String
    let policy: Policy?
    let clock: @Sendable () -> Date

    /// Administration over `store`, audited as `actor` (e.g. `cli`).
    ///
    /// With a `policy`, granting a role it does not define is refused.
    public init(store: any UserAdministrationStore, hasher: PasswordHasher, policy: Policy? = nil, actor: String = "cli", clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.hasher = hasher
        self.policy = policy
        self.actor = actor
        self.clock = clock
    }

    /// Creates a user with an Argon2id-hashed password and optional roles.
    @discardableResult
    public func addUser(username: String, email: String?, password: String, roles: [String]) async throws -> UserSummary {
        try AccountRules.validateUsername(username)
        try AccountRules.validatePassword(password)
        if let email { try AccountRules.validateEmail(email) }
        for role in roles { try validateRole(role) }
        if try await store.user(username: username) != nil {
            throw PortcullisError.conflict("user \(username) already exists")
        }
        let now = clock()
        let user = User(
            id: UUID().uuidString.lowercased(), username: username, email: email,
            passwordHash: try await hasher.hash(password), disabled: false, createdAt: now, updatedAt: now)
        try await store.createUser(user)
        for role in roles { _ = try await store.grantRole(role, toUserID: user.id, at: now) }
        try await audit("user.add", subject: username, detail: roles.isEmpty ? nil : "roles: \(roles.joined(separator: ","))")
        return try await summary(of: user)
    }

    /// Every user.
    public func listUsers() async throws -> [UserSummary] {
        var result: [UserSummary] = []
        for user in try await store.allUsers() { result.append(try await summary(of: user)) }
        return result
    }

    /// One user.
    public func showUser(_ username: String) async throws -> UserSummary {
        try await summary(of: try await existingUser(username))
    }

    /// Sets a new password and ends the user's sessions (token families and browser sessions).
    public func setPassword(_ username: String, password: String) async throws {
        try AccountRules.validatePassword(password)
        let user = try await existingUser(username)
        let now = clock()
        try await store.updatePasswordHash(userID: user.id, hash: try await hasher.hash(password), at: now)
        _ = try await store.endSessions(ofUserID: user.id, exceptFamily: nil, reason: "password_reset", at: now)
        try await audit("user.passwd", subject: username)
    }

    /// Disables (and ends the sessions of) or re-enables a user.
    public func setDisabled(_ username: String, disabled: Bool) async throws {
        let user = try await existingUser(username)
        let now = clock()
        _ = try await store.setDisabled(userID: user.id, disabled: disabled, at: now)
        if disabled { _ = try await store.endSessions(ofUserID: user.id, exceptFamily: nil, reason: "user_disabled", at: now) }
        try await audit(disabled ? "user.disable" : "user.enable", subject: username)
    }

    /// Deletes a user with their grants and sessions (the rows cascade, browser sessions included).
    public func deleteUser(_ username: String) async throws {
        let user = try await existingUser(username)
        _ = try await store.deleteUser(id: user.id)
        _ = try await store.clearLockout(key: username.lowercased())
        try await audit("user.delete", subject: username)
    }

    /// GDPR erasure: deletes the user and everything personal (grants, MFA, sessions, consents,
    /// lockout, decision-log rows) and pseudonymises their audit events, keeping the chain verifiable.
    /// - Returns: the pseudonym that now stands for the user in the audit log, and how many events it replaced.
    public func eraseUser(_ username: String) async throws -> (pseudonym: String, auditEvents: Int) {
        let user = try await existingUser(username)
        let pseudonym = "erased-" + SecureRandom.token(byteCount: 8)
        let rows = try await store.eraseUser(id: user.id, username: user.username, pseudonym: pseudonym, at: clock())
        return (pseudonym, rows.count)
    }

    /// Verifies the audit log's hash chain.
    public func verifyAudit() async throws -> AuditChain.Verdict {
        AuditChain.verify(try await store.auditEntries())
    }

    /// Removes a user's second factor and recovery codes (for a lost phone) and ends their sessions.
    public func resetMFA(_ username: String) async throws -> Bool {
        let user = try await existingUser(username)
        let removed = try await store.deleteTOTP(userID: user.id)
        _ = try await store.endSessions(ofUserID: user.id, exceptFamily: nil, reason: "mfa_reset", at: clock())
        try await audit("mfa.reset", subject: username, detail: removed ? "removed" : "nothing enrolled")
        return removed
    }

    /// The user's passkeys, oldest first (flagged ones included: the operator is told).
    public func passkeys(_ username: String) async throws -> [Passkey] {
        try await store.passkeys(userID: try await existingUser(username).id)
    }

    /// Removes one of the user's passkeys (by its id, as `passkeys` lists it) and ends the user's
    /// sessions; throws `notFound` when the user has no such passkey.
    public func removePasskey(_ username: String, id: String) async throws {
        let user = try await existingUser(username)
        guard try await store.deletePasskey(id: id, userID: user.id) else { throw PortcullisError.notFound("\(username) has no passkey \(id)") }
        _ = try await store.endSessions(ofUserID: user.id, exceptFamily: nil, reason: "passkey_removed", at: clock())
        try await audit("passkey.remove", subject: username, detail: id)
    }

    /// Clears an account's failed-login counter and lockout; works for any name, existing or not.
    public func unlock(_ username: String) async throws -> Bool {
        let cleared = try await store.clearLockout(key: username.lowercased())
        try await audit("user.unlock", subject: username)
        return cleared
    }

    /// Grants a role; false when already granted.
    public func grantRole(_ role: String, to username: String) async throws -> Bool {
        try validateRole(role)
        let user = try await existingUser(username)
        let granted = try await store.grantRole(role, toUserID: user.id, at: clock())
        try await audit("role.grant", subject: username, detail: role)
        return granted
    }

    /// Revokes a role; false when it was not granted.
    public func revokeRole(_ role: String, from username: String) async throws -> Bool {
        let user = try await existingUser(username)
        let revoked = try await store.revokeRole(role, fromUserID: user.id)
        try await audit("role.revoke", subject: username, detail: role)
        return revoked
    }

    /// The newest audit events.
    public func auditTrail(limit: Int) async throws -> [AuditEvent] {
        guard (1...100_000).contains(limit) else { throw PortcullisError.invalidRequest("--limit must be 1-100000") }
        return try await store.recentAudit(limit: limit)
    }

    /// Records an admin action done outside this type (e.g. key rotation).
    public func audit(_ action: String, subject: String?, detail: String? = nil) async throws {
        try await store.appendAudit(AuditEvent(at: clock(), action: action, actor: actor, subject: subject, detail: detail))
    }

    func validateRole(_ role: String) throws {
        try Self.validateRoleName(role)
        if let policy, !policy.defines(role: role) {
            throw PortcullisError.invalidRequest("role \(role) is not defined by the policy (see `portcullis role list`)")
        }
    }

    static func validateRoleName(_ role: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:/")
        guard (1...64).contains(role.count), role.allSatisfy({ allowed.contains($0) }) else {
            throw PortcullisError.invalidRequest("role must be 1-64 characters of letters, digits, '.', '_', '-', ':', '/'")
        }
    }

    private func existingUser(_ username: String) async throws -> User {
        guard let user = try await store.user(username: username) else {
            throw PortcullisError.notFound("no user \(username)")
        }
        return user
    }

    private func summary(of user: User) async throws -> UserSummary {
        UserSummary(
            id: user.id, username: user.username, email: user.email, disabled: user.disabled,
            roles: try await store.roles(ofUserID: user.id),
            mfa: try await store.totpCredential(userID: user.id)?.isActive ?? false, createdAt: user.createdAt)
    }
}
