public import Foundation
public import PortcullisCore
import PostgresNIO

extension PostgresStore: UserStore, RoleGrantStore {
    public func createUser(_ user: User) async throws {
        do {
            try await execute("""
                INSERT INTO users (id, username, username_key, email, password_hash, disabled, created_at, updated_at)
                VALUES (\(user.id), \(user.username), \(User.key(forUsername: user.username)), \(user.email), \(user.passwordHash),
                        \(user.disabled), \(user.createdAt.timeIntervalSince1970), \(user.updatedAt.timeIntervalSince1970))
                """)
        } catch where Self.isUniqueViolation(error) {
            throw PortcullisError.conflict("user \(user.username) already exists")
        }
    }

    public func user(id: String) async throws -> User? {
        try await row("SELECT * FROM users WHERE id = \(id)").map(Self.user)
    }

    public func user(username: String) async throws -> User? {
        try await row("SELECT * FROM users WHERE username_key = \(User.key(forUsername: username))").map(Self.user)
    }

    public func allUsers() async throws -> [User] {
        try await rows("SELECT * FROM users ORDER BY username_key").map(Self.user)
    }

    public func updatePasswordHash(userID: String, hash: String, at: Date) async throws {
        defer { tokensMayHaveEnded() }
        try await execute("UPDATE users SET password_hash = \(hash), updated_at = \(at.timeIntervalSince1970) WHERE id = \(userID)")
    }

    public func setDisabled(userID: String, disabled: Bool, at: Date) async throws -> Bool {
        defer { tokensMayHaveEnded() }
        return try await !rows("UPDATE users SET disabled = \(disabled), updated_at = \(at.timeIntervalSince1970) WHERE id = \(userID) RETURNING id").isEmpty
    }

    public func deleteUser(id: String) async throws -> Bool {
        defer { tokensMayHaveEnded() }
        return try await !rows("DELETE FROM users WHERE id = \(id) RETURNING id").isEmpty
    }

    public func eraseUser(id: String, username: String, pseudonym: String, at: Date) async throws -> [Int64] {
        defer { tokensMayHaveEnded() }
        let logger = self.logger
        return try await transaction { connection in
            guard !(try await connection.rows("SELECT id FROM users WHERE id = \(id) FOR UPDATE", logger: logger)).isEmpty else { return [] }
            let families = try await connection.rows("SELECT id FROM token_families WHERE user_id = \(id)", logger: logger)
                .map { try $0.value("id", as: String.self) }
            let identities = Set([id, username, username.lowercased()] + families)
            var erased: [Int64] = []
            for row in try await connection.rows("SELECT id, actor, subject FROM audit_events ORDER BY id", logger: logger) {
                let actor = try row.value("actor", as: String.self)
                let subject = try row.value("subject", as: String?.self)
                guard identities.contains(actor) || subject.map(identities.contains) == true else { continue }
                let rowID = try row.value("id", as: Int64.self)
                let newActor = identities.contains(actor) ? pseudonym : actor
                let newSubject = subject.map { identities.contains($0) ? pseudonym : $0 }
                try await connection.execute("""
                    UPDATE audit_events SET actor = \(newActor), subject = \(newSubject), remote_address = NULL, detail = NULL,
                           pseudonymised = true WHERE id = \(rowID)
                    """, logger: logger)
                erased.append(rowID)
            }
            try await connection.execute("DELETE FROM account_lockouts WHERE key = \(username.lowercased())", logger: logger)
            try await connection.execute("DELETE FROM decision_log WHERE subject = \(username)", logger: logger)
            try await connection.execute("DELETE FROM users WHERE id = \(id)", logger: logger)
            try await Self.appendAudit(
                AuditEvent(at: at, action: "user.erase", actor: "admin", subject: pseudonym, remoteAddress: nil,
                           detail: AuditChain.erasedRowsPrefix + erased.map(String.init).joined(separator: ",")),
                connection: connection, logger: logger)
            return erased
        }
    }

    static func user(_ row: PostgresRandomAccessRow) throws -> User {
        User(id: try row.value("id"), username: try row.value("username"), email: try row.value("email"),
             passwordHash: try row.value("password_hash"), disabled: try row.value("disabled"),
             createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    // MARK: RoleGrantStore

    public func grantRole(_ role: String, toUserID userID: String, at: Date) async throws -> Bool {
        defer { tokensMayHaveEnded() }
        return try await !rows("""
            INSERT INTO role_grants (user_id, role, granted_at) VALUES (\(userID), \(role), \(at.timeIntervalSince1970))
            ON CONFLICT (user_id, role) DO NOTHING RETURNING role
            """).isEmpty
    }

    public func revokeRole(_ role: String, fromUserID userID: String) async throws -> Bool {
        defer { tokensMayHaveEnded() }
        return try await !rows("DELETE FROM role_grants WHERE user_id = \(userID) AND role = \(role) RETURNING role").isEmpty
    }

    public func roles(ofUserID userID: String) async throws -> [String] {
        // Read on every /v1/authorize: concurrent reads share one prepared statement.
        try await roleReads.answer(userID) { [self] userIDs in
            try inQuestionOrder(try await prepared(RolesOfUsers(keys: userIDs)), count: userIDs.count)
        }
    }
}

/// `roles(ofUserID:)` for a batch of users, prepared once per connection: each user's granted
/// roles in name order.
struct RolesOfUsers: BatchedKeysStatement {
    static let sql = """
        SELECT u.i, ARRAY(SELECT g.role FROM role_grants g WHERE g.user_id = u.id ORDER BY g.role)
        FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i)
        """
    typealias Row = (index: Int64, answer: [String])
    /// User ids.
    let keys: [String]

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (index, roles) = try row.decode((Int64, [String]).self)
        return (index, roles)
    }
}
