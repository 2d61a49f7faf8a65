public import Foundation
public import GRDB
public import PortcullisCore

/// Portcullis's store on one SQLite file: WAL, foreign keys, `synchronous=FULL`, migrated on open.
///
/// `synchronous=FULL` syncs the WAL at every commit, so an acknowledged write survives
/// a `kill -9` and a power cut. The server and the CLI may open the same file at once.
public final class SQLiteStore: PortcullisStore {
    let pool: DatabasePool
    /// Read-only connections of their own for the per-request token check (see `HotReaders`).
    let hotReaders: HotReaders
    /// The token check's answers while the file does not change (see `LivenessMemory`).
    let livenessMemory: LivenessMemory
    /// Revoked access tokens' ids, current with the file (see `RevokedTokenMemory`).
    let revokedTokenMemory: RevokedTokenMemory
    /// Clients by id while the file does not change (see `ReadMemory`).
    let clientMemory: ClientMemory
    /// Addresses' lockouts while the file does not change.
    let addressLockMemory: AddressLockMemory

    /// Opens (creating when missing) the database at `path` and migrates it.
    ///
    /// The file and its `-wal` and `-shm` are mode 0600 whatever the directory and umask; an
    /// existing file with wider permissions is tightened (see `DatabaseFileMode`).
    public init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try DatabaseFileMode.restrict(path)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Migrations.migrator.migrate(pool)
        hotReaders = try HotReaders(path: path, count: max(2, ProcessInfo.processInfo.activeProcessorCount))
        let dataVersion = try DataVersion(path: path)
        livenessMemory = LivenessMemory(watching: dataVersion)
        revokedTokenMemory = RevokedTokenMemory(watching: dataVersion)
        clientMemory = ClientMemory(watching: dataVersion, capacity: 1_000)
        addressLockMemory = AddressLockMemory(watching: dataVersion)
    }

    /// The underlying GRDB writer, for tests that inspect the raw tables.
    public var databaseWriter: any DatabaseWriter { pool }

    public func isHealthy() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    // MARK: UserStore

    public func createUser(_ user: User) async throws {
        do {
            try await pool.write { db in try UserRecord(user).insert(db) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw PortcullisError.conflict("user \(user.username) already exists")
        }
    }

    public func user(id: String) async throws -> User? {
        try await pool.read { db in
            try UserRecord.fetchOne(db, key: id)?.user
        }
    }

    public func user(username: String) async throws -> User? {
        try await pool.read { db in
            try UserRecord.fetchOne(db, sql: "SELECT * FROM users WHERE username_key = ?", arguments: [User.key(forUsername: username)])?.user
        }
    }

    public func allUsers() async throws -> [User] {
        try await pool.read { db in
            try UserRecord.fetchAll(db, sql: "SELECT * FROM users ORDER BY username_key").map(\.user)
        }
    }

    public func updatePasswordHash(userID: String, hash: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                           arguments: [hash, at.timeIntervalSince1970, userID])
        }
    }

    public func setDisabled(userID: String, disabled: Bool, at: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?",
                           arguments: [disabled, at.timeIntervalSince1970, userID])
            return db.changesCount == 1
        }
    }

    public func deleteUser(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    // MARK: RoleGrantStore

    public func grantRole(_ role: String, toUserID userID: String, at: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO role_grants (user_id, role, granted_at) VALUES (?, ?, ?)",
                           arguments: [userID, role, at.timeIntervalSince1970])
            return db.changesCount == 1
        }
    }

    public func revokeRole(_ role: String, fromUserID userID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM role_grants WHERE user_id = ? AND role = ?", arguments: [userID, role])
            return db.changesCount == 1
        }
    }

    public func roles(ofUserID userID: String) async throws -> [String] {
        // Read on every /v1/authorize: one indexed lookup on a hot reader.
        try hotReaders.read { db in try Self.roles(ofUserID: userID, db: db) }
    }

    static func roles(ofUserID userID: String, db: Database) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT role FROM role_grants WHERE user_id = ? ORDER BY role"), arguments: [userID])
    }

    // MARK: AuditStore

    public func appendAudit(_ event: AuditEvent) async throws {
        try await pool.write { db in try Self.appendAudit(event, db: db) }
    }

    /// Appends one event, chained to the newest row (the write transaction serialises writers).
    static func appendAudit(_ event: AuditEvent, db: Database) throws {
        let previous = try String.fetchOne(db, sql: "SELECT chain_hash FROM audit_events ORDER BY id DESC LIMIT 1") ?? AuditChain.genesis
        let content = AuditChain.contentHash(event)
        try db.execute(
            sql: """
                INSERT INTO audit_events (at, action, actor, subject, remote_address, detail, content_hash, chain_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [event.at.timeIntervalSince1970, event.action, event.actor, event.subject, event.remoteAddress, event.detail,
                        content, AuditChain.link(previous: previous, content: content)])
    }

    public func auditEntries() async throws -> [AuditChain.Entry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_events ORDER BY id").map { row in
                AuditChain.Entry(
                    id: row["id"], event: Self.auditEvent(row), contentHash: row["content_hash"] ?? "", chainHash: row["chain_hash"] ?? "",
                    pseudonymised: row["pseudonymised"])
            }
        }
    }

    static func auditEvent(_ row: Row) -> AuditEvent {
        AuditEvent(
            id: row["id"], at: Date(timeIntervalSince1970: row["at"]), action: row["action"], actor: row["actor"],
            subject: row["subject"], remoteAddress: row["remote_address"], detail: row["detail"])
    }

    public func eraseUser(id: String, username: String, pseudonym: String, at: Date) async throws -> [Int64] {
        try await pool.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [id]) != nil else { return [] }
            let families = try String.fetchAll(db, sql: "SELECT id FROM token_families WHERE user_id = ?", arguments: [id])
            let identities = Set([id, username, username.lowercased()] + families)
            var erased: [Int64] = []
            for row in try Row.fetchAll(db, sql: "SELECT id, actor, subject FROM audit_events ORDER BY id") {
                let actor: String = row["actor"]
                let subject: String? = row["subject"]
                guard identities.contains(actor) || subject.map(identities.contains) == true else { continue }
                let rowID: Int64 = row["id"]
                try db.execute(
                    sql: "UPDATE audit_events SET actor = ?, subject = ?, remote_address = NULL, detail = NULL, pseudonymised = 1 WHERE id = ?",
                    arguments: [identities.contains(actor) ? pseudonym : actor, subject.map { identities.contains($0) ? pseudonym : $0 }, rowID])
                erased.append(rowID)
            }
            try db.execute(sql: "DELETE FROM account_lockouts WHERE key = ?", arguments: [username.lowercased()])
            try db.execute(sql: "DELETE FROM decision_log WHERE subject = ?", arguments: [username])
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            try Self.appendAudit(AuditEvent(at: at, action: "user.erase", actor: "admin", subject: pseudonym, remoteAddress: nil,
                                            detail: AuditChain.erasedRowsPrefix + erased.map(String.init).joined(separator: ",")), db: db)
            return erased
        }
    }

    public func recentAudit(limit: Int) async throws -> [AuditEvent] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_events ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.auditEvent)
        }
    }

    // MARK: AccountLockoutStore

    public func lockoutState(key: String) async throws -> AccountLockoutState {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT failures, locked_until FROM account_lockouts WHERE key = ?", arguments: [key]) else {
                return AccountLockoutState(failures: 0, lockedUntil: nil)
            }
            let until: Double? = row["locked_until"]
            return AccountLockoutState(failures: row["failures"], lockedUntil: until.map(Date.init(timeIntervalSince1970:)))
        }
    }

    public func reserveAttempt(key: String, at: Date, resetAfter: TimeInterval, lockout: @Sendable (Int) -> TimeInterval?) async throws -> AttemptReservation {
        let now = at.timeIntervalSince1970
        // A locked account is refused on a read: no write transaction, no fsync.
        if let until = try hotReaders.read({ db in
            try Double.fetchOne(db.cachedStatement(sql: "SELECT locked_until FROM account_lockouts WHERE key = ?"), arguments: [key])
        }), until > now {
            return .locked(until: Date(timeIntervalSince1970: until))
        }
        return try await pool.write { db in
            let row = try Row.fetchOne(db, sql: "SELECT failures, locked_until, last_attempt_at FROM account_lockouts WHERE key = ?", arguments: [key])
            if let until: Double = row?["locked_until"], until > now { return .locked(until: Date(timeIntervalSince1970: until)) }
            let last: Double? = row?["last_attempt_at"]
            let stale = last.map { now - $0 > resetAfter } ?? false
            let failures = (stale ? 0 : (row?["failures"] as Int? ?? 0)) + 1
            let until = lockout(failures).map { at.addingTimeInterval($0) }
            try db.execute(
                sql: """
                    INSERT INTO account_lockouts (key, failures, locked_until, last_attempt_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
                                                   last_attempt_at = excluded.last_attempt_at
                    """,
                arguments: [key, failures, until?.timeIntervalSince1970, now])
            return .reserved(AccountLockoutState(failures: failures, lockedUntil: until))
        }
    }

    public func releaseAttempt(key: String, threshold: Int) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE account_lockouts SET failures = MAX(failures - 1, 0),
                           locked_until = CASE WHEN failures - 1 < ? THEN NULL ELSE locked_until END
                    WHERE key = ?
                    """,
                arguments: [threshold, key])
            // Nothing left to remember: drop the row rather than keep a zero.
            try db.execute(sql: "DELETE FROM account_lockouts WHERE key = ? AND failures = 0 AND locked_until IS NULL", arguments: [key])
        }
    }

    public func clearLockout(key: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM account_lockouts WHERE key = ?", arguments: [key])
            return db.changesCount == 1
        }
    }
}
