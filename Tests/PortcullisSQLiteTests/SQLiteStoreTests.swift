import Foundation
import GRDB
import PortcullisCore
import PortcullisSQLite
import Synchronization
import Testing

/// A fresh database file in a temporary directory.
func makeStore() throws -> SQLiteStore {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-sqlite-\(UUID().uuidString)")
    return try SQLiteStore(path: directory.appendingPathComponent("test.db").path)
}

func makeUser(_ name: String = "alice", at date: Date = Date(timeIntervalSince1970: 1_700_000_000)) -> User {
    User(id: UUID().uuidString, username: name, email: "\(name)@example.com", passwordHash: "$argon2id$stub", disabled: false, createdAt: date, updatedAt: date)
}

func record(_ hash: String, family: String = "", at date: Date, ttl: TimeInterval = 3600) -> RefreshTokenRecord {
    RefreshTokenRecord(tokenHash: hash, familyID: family, issuedAt: date, expiresAt: date.addingTimeInterval(ttl))
}

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

    @Test func usernamesAreUniqueWithoutRegardToCase() async throws {
        let store = try makeStore()
        try await store.createUser(makeUser("Alice"))
        await #expect(throws: PortcullisError.conflict("user alice already exists")) {
            try await store.createUser(makeUser("alice"))
        }
        #expect(try await store.user(username: "ALICE")?.username == "Alice")
    }

    @Test func deletingAUserCascadesToGrantsAndSessions() async throws {
        let store = try makeStore()
        let user = makeUser()
        try await store.createUser(user)
        _ = try await store.grantRole("admin", toUserID: user.id, at: now)
        try await store.createFamily(TokenFamily(id: "f1", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("h1", at: now))
        #expect(try await store.deleteUser(id: user.id))
        #expect(try await store.roles(ofUserID: user.id).isEmpty)
        #expect(try await store.family(id: "f1") == nil)
        #expect(try await store.family(ofTokenHash: "h1") == nil)
        #expect(try await store.deleteUser(id: user.id) == false)
    }

    @Test func grantsAreIdempotentAndRevocable() async throws {
        let store = try makeStore()
        let user = makeUser()
        try await store.createUser(user)
        #expect(try await store.grantRole("viewer", toUserID: user.id, at: now))
        #expect(try await store.grantRole("viewer", toUserID: user.id, at: now) == false)
        #expect(try await store.grantRole("admin", toUserID: user.id, at: now))
        #expect(try await store.roles(ofUserID: user.id) == ["admin", "viewer"])
        #expect(try await store.revokeRole("viewer", fromUserID: user.id))
        #expect(try await store.revokeRole("viewer", fromUserID: user.id) == false)
        #expect(try await store.roles(ofUserID: user.id) == ["admin"])
    }

    @Test func rotationConsumesTheTokenAndReuseRevokesTheFamily() async throws {
        let (store, user) = try await makeStoreWithSession()

        let first = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2", at: now), at: now, graceWindow: 0)
        guard case .rotated(let family, graceRetry: false) = first else { Issue.record("expected rotation, got \(first)"); return }
        #expect(family.id == "fam")

        let replay = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t3", at: now), at: now.addingTimeInterval(1), graceWindow: 0)
        #expect(replay == .reused(familyID: "fam"))
        #expect(try await store.family(id: "fam")?.revokedReason == "reuse")
        // The successor died with its family.
        #expect(try await store.rotate(presentedHash: "t2", owner: .firstParty, successor: record("t4", at: now), at: now, graceWindow: 0) == .revoked)
    }

    @Test func concurrentRotationsOfOneTokenLetExactlyOneWin() async throws {
        let (store, user) = try await makeStoreWithSession()
        let outcomes = try await withThrowingTaskGroup(of: RotationOutcome.self) { group in
            for index in 0..<8 {
                group.addTask { try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("next-\(index)", at: now), at: now, graceWindow: 0) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let wins = outcomes.filter { if case .rotated = $0 { true } else { false } }
        #expect(wins.count == 1)
        #expect(outcomes.count == 8)
    }

    @Test func graceWindowRetryReplacesTheUnseenSuccessor() async throws {
        let (store, user) = try await makeStoreWithSession()
        _ = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2", at: now), at: now, graceWindow: 10)

        let retry = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2b", at: now), at: now.addingTimeInterval(5), graceWindow: 10)
        guard case .rotated(_, graceRetry: true) = retry else { Issue.record("expected grace retry, got \(retry)"); return }
        // The successor from the lost response was invalidated: presenting it is reuse.
        #expect(try await store.rotate(presentedHash: "t2", owner: .firstParty, successor: record("x", at: now), at: now.addingTimeInterval(6), graceWindow: 0) == .reused(familyID: "fam"))
    }

    @Test func retryAfterTheGraceWindowIsReuse() async throws {
        let (store, user) = try await makeStoreWithSession()
        _ = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2", at: now), at: now, graceWindow: 10)
        #expect(try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t3", at: now), at: now.addingTimeInterval(11), graceWindow: 10) == .reused(familyID: "fam"))
    }

    @Test func expiredAndUnknownTokensChangeNothing() async throws {
        let (store, user) = try await makeStoreWithSession(firstTokenTTL: 10)
        #expect(try await store.rotate(presentedHash: "nope", owner: .firstParty, successor: record("a", at: now), at: now, graceWindow: 0) == .unknown)
        #expect(try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("b", at: now), at: now.addingTimeInterval(11), graceWindow: 0) == .expired)
        #expect(try await store.family(id: "fam")?.revokedAt == nil)
    }

    @Test func endingAUsersSessionsSparesTheCurrentFamilyAndDeletesEveryBrowserSession() async throws {
        let store = try makeStore()
        let user = makeUser()
        try await store.createUser(user)
        for id in ["a", "b", "c"] {
            try await store.createFamily(TokenFamily(id: id, userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("h-\(id)", at: now))
        }
        // Browser sessions are purged by wall-clock expiry, so these live an hour from the real now.
        for cookie in ["k1", "k2"] {
            try await store.createBrowserSession(BrowserSession(idHash: cookie, userID: user.id, authTime: now, amr: ["pwd"], expiresAt: Date().addingTimeInterval(3600)))
        }
        #expect(try await store.browserSession(idHash: "k1", at: Date()) != nil)
        #expect(try await store.endSessions(ofUserID: user.id, exceptFamily: "b", reason: "password_change", at: now) == EndedSessions(families: 2, browserSessions: 2))
        #expect(try await store.browserSession(idHash: "k1", at: Date()) == nil)
        #expect(try await store.family(id: "a")?.revokedAt != nil)
        #expect(try await store.family(id: "b")?.revokedAt == nil)
        #expect(try await store.revokeFamily(id: "b", reason: "logout", at: now))
        #expect(try await store.revokeFamily(id: "b", reason: "logout", at: now) == false)
    }

    @Test func revokedAccessTokensAreRemembered() async throws {
        let store = try makeStore()
        #expect(try await store.isAccessTokenRevoked(jti: "j1") == false)
        try await store.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
        #expect(try await store.isAccessTokenRevoked(jti: "j1"))
        #expect(try await store.isAccessTokenRevoked(jti: "j2") == false)
    }

    @Test func tokenLivenessSeesEachRevocationCommittedBeforeIt() async throws {
        let (store, user) = try await makeStoreWithSession()
        func live(_ jti: String = "j1", session: String? = "fam", subject: String? = nil, client: String? = nil, requireUser: Bool = true) async throws -> Bool {
            try await store.isAccessTokenLive(jti: jti, sessionID: session, subject: subject ?? user.id, clientID: client, requireUser: requireUser)
        }
        #expect(try await live())
        #expect(try await live(session: "other") == false, "unknown session")
        #expect(try await live(subject: "someone-else") == false, "session of another user")
        #expect(try await live(session: nil, subject: "client-7", requireUser: false), "a client token needs no user")
        #expect(try await live(session: nil, subject: "client-7") == false, "a missing user")
        #expect(try await live(session: nil, subject: "client-7", client: "client-7", requireUser: false) == false, "a client that does not exist")
        try await store.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
        #expect(try await live() == false, "jti revoked")
        #expect(try await live("j2"))
        _ = try await store.setDisabled(userID: user.id, disabled: true, at: now)
        #expect(try await live("j2") == false, "user disabled")
        _ = try await store.setDisabled(userID: user.id, disabled: false, at: now)
        #expect(try await live("j2"))
        _ = try await store.revokeFamily(id: "fam", reason: "logout", at: now)
        #expect(try await live("j2") == false, "session revoked")
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

    @Test func attemptReservationsCountLockAndRelease() async throws {
        let store = try makeStore()
        let policy = LockoutPolicy(threshold: 3)
        func reserve(at time: Date? = nil) async throws -> AttemptReservation {
            try await store.reserveAttempt(key: "bob", at: time ?? now, resetAfter: 900) { policy.lockout(afterFailures: $0) }
        }
        #expect(try await reserve() == .reserved(AccountLockoutState(failures: 1, lockedUntil: nil)))
        #expect(try await reserve() == .reserved(AccountLockoutState(failures: 2, lockedUntil: nil)))
        // The third reaches the threshold: it still runs, and locks behind it.
        #expect(try await reserve() == .reserved(AccountLockoutState(failures: 3, lockedUntil: now.addingTimeInterval(60))))
        #expect(try await reserve() == .locked(until: now.addingTimeInterval(60)))
        // Giving back one attempt below the threshold lifts the lock; the other failures stand.
        try await store.releaseAttempt(key: "bob", threshold: 3)
        #expect(try await store.lockoutState(key: "bob") == AccountLockoutState(failures: 2, lockedUntil: nil))
        // Fifteen quiet minutes later the count starts again from zero.
        #expect(try await reserve(at: now.addingTimeInterval(901)) == .reserved(AccountLockoutState(failures: 1, lockedUntil: nil)))
        try await store.releaseAttempt(key: "bob", threshold: 3)
        #expect(try await store.lockoutState(key: "bob") == AccountLockoutState(failures: 0, lockedUntil: nil))
        _ = try await reserve()
        #expect(try await store.clearLockout(key: "bob"))
        #expect(try await store.clearLockout(key: "bob") == false)
    }

    @Test func concurrentReservationsGrantAtMostTheThreshold() async throws {
        let store = try makeStore()
        let policy = LockoutPolicy(threshold: 10)
        let now = self.now
        let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    if case .reserved = try await store.reserveAttempt(key: "carol", at: now, resetAfter: 900, lockout: { policy.lockout(afterFailures: $0) }) { return true }
                    return false
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 10)
    }

    @Test func aFamilyRotatesOnlyForItsOwnerAndAWrongOwnerConsumesNothing() async throws {
        let store = try makeStore()
        let user = makeUser()
        try await store.createUser(user)
        try await store.createClient(OAuthClient(
            id: "app", name: "App", secretHash: nil, redirectURIs: [], postLogoutRedirectURIs: [], scopes: [], grantTypes: [.refreshToken],
            idTokenAlgorithm: .rs256, firstParty: false, createdAt: now))
        try await store.createFamily(TokenFamily(id: "oauth", userID: user.id, clientID: "app", scope: "s", createdAt: now), firstToken: record("o1", at: now))
        try await store.createFamily(TokenFamily(id: "rest", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("r1", at: now))
        #expect(try await store.rotate(presentedHash: "o1", owner: .firstParty, successor: record("x", at: now), at: now, graceWindow: 0) == .wrongOwner)
        #expect(try await store.rotate(presentedHash: "o1", owner: .client("other"), successor: record("y", at: now), at: now, graceWindow: 0) == .wrongOwner)
        #expect(try await store.rotate(presentedHash: "r1", owner: .client("app"), successor: record("z", at: now), at: now, graceWindow: 0) == .wrongOwner)
        // Nothing was consumed: each owner still rotates its own token once.
        guard case .rotated(let family, false) = try await store.rotate(presentedHash: "o1", owner: .client("app"), successor: record("o2", at: now), at: now, graceWindow: 0) else {
            Issue.record("the owner could not rotate")
            return
        }
        #expect(family.clientID == "app")
        guard case .rotated = try await store.rotate(presentedHash: "r1", owner: .firstParty, successor: record("r2", at: now), at: now, graceWindow: 0) else {
            Issue.record("the REST owner could not rotate")
            return
        }
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

    @Test func auditEventsComeBackNewestFirst() async throws {
        let store = try makeStore()
        for index in 0..<5 {
            try await store.appendAudit(AuditEvent(at: now.addingTimeInterval(Double(index)), action: "a\(index)", actor: "cli"))
        }
        let events = try await store.recentAudit(limit: 3)
        #expect(events.map(\.action) == ["a4", "a3", "a2"])
        #expect(events.allSatisfy { $0.id != nil })
    }

    @Test func sqlMetacharactersInNamesAreStoredLiterally() async throws {
        let store = try makeStore()
        let user = makeUser("x'; DROP TABLE users; --")
        try await store.createUser(user)
        #expect(try await store.user(username: "x'; DROP TABLE users; --")?.id == user.id)
        #expect(try await store.allUsers().count == 1)
    }
}
