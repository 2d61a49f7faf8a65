import Foundation
import GRDB
import PortcullisCore
@testable import PortcullisSQLite
import Synchronization
import Testing

/// A fresh database file in a temporary directory.
func makeStore() throws -> SQLiteStore {
    try SQLiteStore(path: newDatabasePath("portcullis-sqlite"))
}

/// The path of a database file not made yet, in a new temporary directory named `prefix-<uuid>`.
func newDatabasePath(_ prefix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").appendingPathComponent("test.db").path
}

func makeUser(_ name: String = "alice", at date: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> User {
    User(id: UUID().uuidString, username: name, email: "\(name)@example.com", passwordHash: "$argon2id$stub", disabled: false, createdAt: date, updatedAt: date)
}

func record(_ hash: String, family: String = "", at date: Date, ttl: TimeInterval = 3600) -> RefreshTokenRecord {
    RefreshTokenRecord(tokenHash: hash, familyID: family, issuedAt: date, expiresAt: date.addingTimeInterval(ttl))
}

/// What only SQLite has: pragmas and the hot readers. Behaviour every store shares is in
/// `StoreConformance` (run by `SQLiteConformanceTests`).
@Suite struct SQLiteStoreTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    /// A fresh store with one user and their session "fam", whose first refresh token is "t1".
    func makeStoreWithSession(firstTokenTTL: TimeInterval = 3600) async throws -> (SQLiteStore, User) {
        let store = try makeStore()
        let user = makeUser()
        try await store.createUser(user)
        try await store.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "s", createdAt: now),
                                     firstToken: record("t1", at: now, ttl: firstTokenTTL))
        return (store, user)
    }

    @Test func schemaStatusComparesGRDBsRecordWithThisBinarysMigrations() async throws {
        let store = try makeStore()
        #expect(try await store.schemaStatus() == .current)
        let first = try await store.databaseWriter.write { db in
            let id = try String.fetchOne(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid LIMIT 1")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [id])
            return try #require(id)
        }
        #expect(try await store.schemaStatus() == .behind(pending: [first]))
        try await store.databaseWriter.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
        #expect(try await store.schemaStatus() == .ahead(unknown: ["v99-future"]), "a newer list wrote it, whatever else it lacks")
    }

    @Test func manyConcurrentHotReadsBesideAsyncReadsAndWritesAllFinish() async throws {
        // The pool's synchronous read deadlocked here once: cooperative threads blocked waiting
        // for a reader while async reads holding readers waited for a cooperative thread. A
        // deadlock starves Swift Testing's own time limit, so a plain thread ends the run instead.
        let done = Atomic<Bool>(false)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 60)
            if !done.load(ordering: .acquiring) {
                FileHandle.standardError.write(Data("manyConcurrentHotReadsBesideAsyncReadsAndWritesAllFinish: deadlocked for 60 s\n".utf8))
                exit(1)
            }
        }
        defer { done.store(true, ordering: .releasing) }
        let (store, user) = try await makeStoreWithSession()
        let finished = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<600 {
                group.addTask {
                    switch index % 3 {
                    case 0: _ = try await store.isAccessTokenLive(jti: "j\(index)", sessionID: "fam", subject: user.id, clientID: nil, requireUser: true)
                    case 1: _ = try await store.family(id: "fam")
                    default: try await store.revokeAccessToken(jti: "r\(index)", expiresAt: self.now.addingTimeInterval(900), at: self.now)
                    }
                    return 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(finished == 600)
        #expect(try await store.isAccessTokenLive(jti: "r2", sessionID: "fam", subject: user.id, clientID: nil, requireUser: true) == false)
    }

    @Test func databaseRunsInWALWithForeignKeysAndFullSync() async throws {
        let store = try makeStore()
        let (mode, foreignKeys, synchronous) = try await store.databaseWriter.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(foreignKeys == 1)
        #expect(synchronous == 2)
    }

    @Test func recordsKeepTheSchemasColumnTypesAndReadRowsWrittenBeforeThem() async throws {
        let store = try makeStore()
        let user = makeUser()
        try await store.createUser(user)
        try await store.createClient(OAuthClient(
            id: "app", name: "App", secretHash: nil, redirectURIs: ["https://app.example/cb"], postLogoutRedirectURIs: [], scopes: ["openid"],
            grantTypes: [.authorizationCode], idTokenAlgorithm: .es256, firstParty: false, createdAt: now))
        let (types, uris) = try store.databaseWriter.read { db in
            (try Row.fetchOne(db, sql: "SELECT typeof(created_at) AS created, typeof(pkce_required) AS pkce FROM oauth_clients")!,
             try String.fetchOne(db, sql: "SELECT redirect_uris FROM oauth_clients"))
        }
        #expect(types["created"] as String? == "real")
        #expect(types["pkce"] as String? == "integer")
        #expect(try JSONDecoder().decode([String].self, from: Data((uris ?? "").utf8)) == ["https://app.example/cb"])
        // A row as the hand-written mapping wrote it: escaped slashes, an unknown grant type.
        try await store.databaseWriter.write { db in
            try db.execute(sql: """
                INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, scopes, grant_types, id_token_alg, first_party, created_at)
                VALUES ('old', 'Old', NULL, '["https:\\/\\/old.example\\/cb"]', '[]', '["openid"]', '["authorization_code","device_code"]', 'EdDSA', 1, 1700000000.5)
                """)
        }
        let old = try #require(try await store.client(id: "old"))
        #expect(old.redirectURIs == ["https://old.example/cb"])
        #expect(old.grantTypes == [.authorizationCode])
        #expect(old.idTokenAlgorithm == .edDSA)
        #expect(old.firstParty)
        #expect(old.createdAt == Date(timeIntervalSince1970: 1_700_000_000.5))
    }
}

/// `LivenessMemory`: answers kept while the file is unchanged, forgotten at any commit by any connection.
@Suite struct LivenessMemoryTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func aRevocationByAnotherConnectionIsSeenByTheNextCheck() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-memory-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("test.db").path
        let server = try SQLiteStore(path: path)
        // A second store on the same file: another process (the CLI) as far as SQLite can tell.
        let cli = try SQLiteStore(path: path)
        let user = makeUser()
        try await server.createUser(user)
        try await server.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: nil)
        _ = try await server.grantRole("viewer", toUserID: user.id, at: now)
        func check(_ jti: String = "j1") throws -> [String]? {
            guard case .answered(let roles) = try server.rolesIfAccessTokenLiveImmediately(
                jti: jti, sessionID: "fam", subject: user.id, clientID: nil, requireUser: true, rolesOfUserID: user.id) else {
                Issue.record("SQLite always answers at once")
                return nil
            }
            return roles
        }

        #expect(try check() == ["viewer"])
        #expect(try check() == ["viewer"])
        #expect(server.livenessMemory.count == 1, "the answer is remembered while nothing changes")
        try await cli.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
        #expect(try check() == nil, "a jti revoked by another connection")
        #expect(try check("j2") == ["viewer"])
        _ = try await cli.revokeRole("viewer", fromUserID: user.id)
        #expect(try check("j2") == [], "a role revoked by another connection")
        _ = try await cli.setDisabled(userID: user.id, disabled: true, at: now)
        #expect(try check("j2") == nil, "a user disabled by another connection")
        _ = try await server.setDisabled(userID: user.id, disabled: false, at: now)
        #expect(try check("j2") == [], "re-enabled by this store's own writer: live again")
        _ = try await server.revokeFamily(id: "fam", reason: "logout", at: now)
        #expect(try check("j2") == nil, "a session revoked by this store's own writer")
    }

    @Test func aClientDeletedByAnotherConnectionIsGoneAtTheNextLookup() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-memory-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("test.db").path
        let server = try SQLiteStore(path: path)
        let cli = try SQLiteStore(path: path)
        try await server.createClient(OAuthClient(
            id: "app", name: "App", secretHash: "h1", redirectURIs: ["https://app.example/cb"], postLogoutRedirectURIs: [], scopes: ["openid"],
            grantTypes: [.authorizationCode], idTokenAlgorithm: .es256, firstParty: false, createdAt: now))
        func lookup() throws -> OAuthClient? {
            guard case .answered(let client) = try server.clientImmediately(id: "app") else {
                Issue.record("SQLite always answers at once")
                return nil
            }
            return client
        }
        #expect(try lookup()?.secretHash == "h1")
        #expect(try lookup()?.secretHash == "h1")
        #expect(server.clientMemory.count == 1, "the client is remembered while nothing changes")
        #expect(try await cli.deleteClient(id: "app"))
        #expect(try lookup() == nil, "a client deleted by another connection (the CLI) is gone at once")
        #expect(try await server.client(id: "app") == nil, "the waiting lookup agrees")
    }

    /// One request's lookups (a `StoreReadScope`) share one reading of the change counter: a
    /// change committed before the request is seen by it, one committed during it is seen by the
    /// next request.
    @Test func oneRequestsLookupsShareOneReadingAndTheNextRequestSeesLaterChanges() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-memory-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("test.db").path
        let server = try SQLiteStore(path: path)
        let cli = try SQLiteStore(path: path)
        for id in ["app", "other"] {
            try await server.createClient(OAuthClient(
                id: id, name: id, secretHash: "h1", redirectURIs: ["https://app.example/cb"], postLogoutRedirectURIs: [], scopes: ["openid"],
                grantTypes: [.authorizationCode], idTokenAlgorithm: .es256, firstParty: false, createdAt: now))
        }
        func lookup(_ id: String) throws -> OAuthClient? {
            guard case .answered(let client) = try server.clientImmediately(id: id) else {
                Issue.record("SQLite always answers at once")
                return nil
            }
            return client
        }
        #expect(try StoreReadScope.run { try lookup("app") } != nil)
        #expect(try await cli.deleteClient(id: "app"))
        // A plain connection of its own, written synchronously in the middle of a request.
        let cliQueue = try DatabaseQueue(path: path)
        try StoreReadScope.run {
            #expect(try lookup("app") == nil, "deleted before this request: gone")
            #expect(try lookup("other") != nil)
            try cliQueue.write { db in try db.execute(sql: "DELETE FROM oauth_clients WHERE id = ?", arguments: ["other"]) }
            #expect(try lookup("other") != nil, "deleted during this request: its lookups keep the reading it began with")
        }
        #expect(try StoreReadScope.run { try lookup("other") } == nil, "the next request sees it")
    }

    @Test func theDataVersionReadsTheWALIndexAndCountsEveryCommitOfAnotherConnection() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-version-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("test.db").path
        _ = try SQLiteStore(path: path)  // the file, in WAL mode
        let version = try DataVersion(path: path)
        #expect(version.readsSharedMemory, "a WAL file's version is read from its shared memory")
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "CREATE TABLE counted (n INTEGER)") }
        var last = try version.current()
        #expect(try version.current() == last, "no commit, no change")
        for n in 0..<60 {
            if n % 20 == 19 {
                // A checkpoint that empties the WAL: the next commit starts it over (new salts).
                try other.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            }
            try other.write { db in try db.execute(sql: "INSERT INTO counted VALUES (?)", arguments: [n]) }
            let now = try version.current()
            #expect(now != last, "commit \(n) is seen")
            #expect(try version.current() == now, "and counted once")
            last = now
        }
        _ = try? other.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM counted") }
        #expect(try version.current() == last, "reads change nothing")
    }

    @Test func withoutWALTheDataVersionAsksThePragma() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-version-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("rollback.db").path
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "CREATE TABLE counted (n INTEGER)") }
        let version = try DataVersion(path: path)
        #expect(!version.readsSharedMemory)
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"), "no shared memory made for a file without WAL")
        let before = try version.current()
        try other.write { db in try db.execute(sql: "INSERT INTO counted VALUES (1)") }
        #expect(try version.current() != before)
    }

    @Test func anAddressLockedByAnotherConnectionIsLockedAtTheNextCheck() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-memory-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("test.db").path
        let server = try SQLiteStore(path: path)
        let replica = try SQLiteStore(path: path)
        func lockedUntil() throws -> Date? {
            guard case .answered(let until) = try server.addressLockedUntilImmediately(key: "198.51.100.7") else {
                Issue.record("SQLite always answers at once")
                return nil
            }
            return until
        }
        #expect(try lockedUntil() == nil)
        #expect(try lockedUntil() == nil)
        #expect(server.addressLockMemory.count == 1, "the answer is remembered while nothing changes")
        let state = try await replica.recordAddressFailure(key: "198.51.100.7", at: now, rule: AddressThrottleRule(limit: 1))
        let until = try #require(state.lockedUntil)
        #expect(try lockedUntil() == until, "a lock committed by another connection holds at the next check")
        #expect(try await server.addressLockedUntil(key: "198.51.100.7") == until, "the waiting check agrees")
    }
}

/// `RevokedTokenMemory`: every revocation committed anywhere is in the set the next check asks.
@Suite struct RevokedTokenMemoryTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    /// The server and the CLI on one file; `check` asks the server about `jti` of a session-less token.
    func serverAndCLI() async throws -> (server: SQLiteStore, cli: SQLiteStore, check: (String) throws -> Bool) {
        let path = newDatabasePath("portcullis-revoked")
        let server = try SQLiteStore(path: path)
        let cli = try SQLiteStore(path: path)
        let user = makeUser()
        try await server.createUser(user)
        let check = { (jti: String) throws -> Bool in
            guard case .answered(let roles) = try server.rolesIfAccessTokenLiveImmediately(
                jti: jti, sessionID: nil, subject: user.id, clientID: nil, requireUser: true, rolesOfUserID: nil) else {
                Issue.record("SQLite always answers at once")
                return false
            }
            return roles != nil
        }
        return (server, cli, check)
    }

    @Test func distinctTokensOfOneUserShareOneGrantAnswerAndEachJTIIsCheckedAgainstTheRevokedSet() async throws {
        let (server, cli, isLive) = try await serverAndCLI()
        try await cli.revokeAccessToken(jti: "gone", expiresAt: now.addingTimeInterval(900), at: now)
        for n in 0..<50 { #expect(try isLive("t\(n)")) }
        #expect(try !isLive("gone"))
        #expect(server.livenessMemory.count == 1, "fifty tokens, one grant")
        #expect(server.revokedTokenMemory.count == 1)
    }

    /// The sweep removes the highest-numbered revocation, so the next one gets its number again:
    /// only the removals count tells a memory that had read that number to read the log again.
    @Test func aRevocationAfterTheSweepRemovedTheLastOneIsStillSeen() async throws {
        let (server, cli, isLive) = try await serverAndCLI()
        let past = Date().addingTimeInterval(-7_200)
        try await cli.revokeAccessToken(jti: "old", expiresAt: past, at: past)
        #expect(try isLive("new"), "the memory has read revocation number 1")
        _ = try await cli.removeExpired(ExpiryCutoff(expiredBefore: Date(), tokenlessFamiliesStartedBefore: past, keepDecisions: 0))
        let logged = try await cli.databaseWriter.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM revoked_access_token_log") }
        #expect(logged == 0, "the sweep took the log's row with it")
        try await cli.revokeAccessToken(jti: "new", expiresAt: Date().addingTimeInterval(900), at: Date())
        #expect(try !isLive("new"), "revoked by another connection after the sweep")
        _ = server
    }

    /// No code renames a revoked id, but the set must hold exactly the table's ids whatever SQL
    /// changed it (an operator's included): a renamed id is a removal and a revocation.
    @Test func anIDRenamedInTheTableIsRevokedUnderItsNewNameOnly() async throws {
        let (_, cli, isLive) = try await serverAndCLI()
        try await cli.revokeAccessToken(jti: "before", expiresAt: now.addingTimeInterval(900), at: now)
        #expect(try !isLive("before"))
        try await cli.databaseWriter.write { db in
            try db.execute(sql: "UPDATE revoked_access_tokens SET jti = 'after' WHERE jti = 'before'")
        }
        #expect(try isLive("before"))
        #expect(try !isLive("after"))
    }

    @Test func aFileMigratedWithRevocationsAlreadyInItKeepsThemRevoked() async throws {
        let path = newDatabasePath("portcullis-revoked")
        let user = makeUser()
        do {
            // A file as v9 left it: revocations, no log.
            let older = try SQLiteStore(path: path)
            try await older.createUser(user)
            try await older.databaseWriter.write { db in
                try db.execute(sql: """
                    DROP TRIGGER revoked_access_tokens_inserted;
                    DROP TRIGGER revoked_access_tokens_updated;
                    DROP TRIGGER revoked_access_tokens_deleted;
                    DROP TABLE revoked_access_token_log;
                    DROP TABLE revoked_access_token_removals;
                    DELETE FROM grdb_migrations WHERE identifier = 'v10-revocation-log';
                    INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at) VALUES ('before', 1e10, 1);
                    """)
            }
        }
        let migrated = try SQLiteStore(path: path)
        func isLive(_ jti: String) throws -> Bool {
            guard case .answered(let roles) = try migrated.rolesIfAccessTokenLiveImmediately(
                jti: jti, sessionID: nil, subject: user.id, clientID: nil, requireUser: true, rolesOfUserID: nil) else { return false }
            return roles != nil
        }
        #expect(try !isLive("before"))
        #expect(try isLive("other"))
        try await migrated.revokeAccessToken(jti: "after", expiresAt: now.addingTimeInterval(1e9), at: now)
        #expect(try !isLive("after"), "the migration's trigger logs new revocations")
    }

    @Test func eachChangeReadsOnlyNewRevocationsAndARemovalReadsTheWholeLogAgain() async throws {
        let path = newDatabasePath("portcullis-revoked")
        let store = try SQLiteStore(path: path)
        let memory = RevokedTokenMemory(watching: try DataVersion(path: path))
        // The log as the reads see it, and which numbers were asked for.
        var log: [(sequence: Int64, jti: String)] = [(1, "a"), (2, "b")]
        var removals: Int64 = 0
        var asked: [Int64] = []
        func isRevoked(_ jti: String) throws -> Bool {
            try memory.isRevoked(jti) { after in
                asked.append(after)
                return RevokedTokenMemory.LogRead(removals: removals, revocations: log.filter { $0.sequence > after })
            }
        }
        func commit() async throws {
            try await store.databaseWriter.write { db in try db.execute(sql: "CREATE TABLE IF NOT EXISTS t (n); INSERT INTO t VALUES (1)") }
        }
        #expect(try isRevoked("a") && isRevoked("b") && !isRevoked("c"))
        #expect(asked == [0], "read once while the file did not change")
        log.append((3, "c"))
        #expect(try !isRevoked("c"), "no commit seen, no read")
        try await commit()
        #expect(try isRevoked("c"))
        #expect(asked == [0, 2], "only what is numbered after the last read")
        log.removeFirst()
        removals += 1
        try await commit()
        #expect(try !isRevoked("a"), "removed")
        #expect(try isRevoked("b") && isRevoked("c"))
        #expect(memory.count == 2)
        #expect(asked == [0, 2, 3, 0], "a moved removals count reads the whole log")
    }
}
