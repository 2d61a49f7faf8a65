import Foundation
import GRDB
import PortcullisCore
import PortcullisSQLite
import Testing

/// `v7-username-key` on a database written by a version before it (migrations up to v6, users
/// compared with ASCII-only COLLATE NOCASE).
@Suite struct UsernameKeyMigrationTests {
    /// A database file that looks migrated to v6, holding only the users table with `usernames`
    /// and the (empty) table of revoked access tokens, which a later migration adds triggers to.
    func makeV6Database(usernames: [String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-v6-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("test.db").path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for id in ["v1-backbone", "v2-totp", "v3-decision-log", "v4-oauth", "v5-audit-chain", "v6-trust-model"] {
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [id])
            }
            try db.execute(sql: """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY NOT NULL,
                    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    email TEXT,
                    password_hash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                )
                """)
            try db.execute(sql: "CREATE TABLE revoked_access_tokens (jti TEXT PRIMARY KEY NOT NULL, expires_at REAL NOT NULL, revoked_at REAL NOT NULL)")
            for (index, name) in usernames.enumerated() {
                try db.execute(sql: "INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES (?, ?, 'h', ?, ?)",
                               arguments: ["id-\(index)", name, Double(index), Double(index)])
            }
        }
        try queue.close()
        return path
    }

    @Test func existingUsersAreBackfilledAndFoundByAnyCase() async throws {
        let store = try SQLiteStore(path: try makeV6Database(usernames: ["\u{C4}rger", "Bob"]))
        #expect(try await store.user(username: "\u{E4}RGER")?.id == "id-0")
        #expect(try await store.user(username: "a\u{308}rger")?.id == "id-0")
        #expect(try await store.allUsers().map(\.username) == ["Bob", "\u{C4}rger"])
        await #expect(throws: PortcullisError.conflict("user \u{E4}rger already exists")) {
            try await store.createUser(User(id: "new", username: "\u{E4}rger", email: nil, passwordHash: "h", disabled: false,
                                            createdAt: Date(), updatedAt: Date()))
        }
    }

    @Test func twoUsersWithOneFoldedNameStopTheMigrationNamingBoth() throws {
        let path = try makeV6Database(usernames: ["\u{C4}rger", "\u{E4}rger", "Bob"])
        #expect {
            _ = try SQLiteStore(path: path)
        } throws: { error in
            let message = String(describing: error)
            return message.contains("\"\u{C4}rger\"") && message.contains("\"\u{E4}rger\"") && message.contains("rename one")
        }
    }
}
