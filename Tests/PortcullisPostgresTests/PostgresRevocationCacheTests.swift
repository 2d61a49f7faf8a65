import Foundation
import Logging
import PortcullisCore
import PostgresNIO
import Testing
@testable import PortcullisPostgres

/// The optional revocation cache: a replica that remembers "live" answers still sees a
/// revocation made by another replica as soon as its notification arrives.
@Suite(.serialized) struct PostgresRevocationCacheTests {
    let now = Date()

    /// Replica A with a 60-second cache (its listener running) and replica B without, on one new schema.
    func replicas() async throws -> (cached: PostgresStore, other: PostgresStore, listener: Task<Void, Never>, admin: PostgresClient)? {
        guard let factory = try PostgresStoreFactory.fromEnvironment() else { return nil }
        let clients = try await factory.makeClients(3)
        try await PostgresMigrations.migrate(client: clients[0], logger: Logger(label: "test"))
        let cached = PostgresStore(client: clients[0], revocationCacheSeconds: 60)
        let listener = Task { await cached.followRevocations { _ in } }
        try await waitUntil { cached.revocationCache?.isListening == true }
        return (cached, PostgresStore(client: clients[1]), listener, clients[2])
    }

    func live(_ store: PostgresStore, _ jti: String, user: User) async throws -> [String]? {
        try await store.rolesIfAccessTokenLive(jti: jti, sessionID: "fam", subject: user.id, clientID: nil, requireUser: true, rolesOfUserID: user.id)
    }

    /// Polls `read` for up to `seconds` until it returns `expected`; returns what it saw last.
    func eventually<T: Equatable>(_ expected: T, within seconds: Double = 2, _ read: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var seen = try await read()
        while seen != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            seen = try await read()
        }
        return seen
    }

    @Test func aReplicasOwnRevocationEndsItsCachedAnswerBeforeTheCallReturns() async throws {
        guard let (a, b, listener, _) = try await replicas() else { return }
        defer { listener.cancel() }
        let user = User(id: "u1", username: "alice", email: nil, passwordHash: "$argon2id$stub", disabled: false, createdAt: now, updatedAt: now)
        try await b.createUser(user)
        try await b.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: nil)
        func immediately() throws -> Immediate<[String]?> {
            try a.rolesIfAccessTokenLiveImmediately(jti: "j1", sessionID: "fam", subject: user.id, clientID: nil, requireUser: true, rolesOfUserID: user.id)
        }
        // Cached once B's writes' notifications have passed.
        #expect(try await eventually(1) { _ = try await live(a, "j1", user: user); return a.revocationCache?.count ?? 0 } == 1)
        guard case .answered(let roles) = try immediately(), roles == [] else {
            Issue.record("a cached live answer is given on the calling thread")
            return
        }
        // Each of these, made on A, is seen by A's very next check: no waiting for A's own notification.
        let revocations: [(String, () async throws -> Void)] = [
            ("a revoked jti", { try await a.revokeAccessToken(jti: "j1", expiresAt: self.now.addingTimeInterval(900), at: self.now) }),
            ("a revoked session", { _ = try await a.revokeFamily(id: "fam", reason: "test", at: self.now) }),
            ("a disabled user", { _ = try await a.setDisabled(userID: user.id, disabled: true, at: self.now) }),
            ("a granted role", { _ = try await a.grantRole("viewer", toUserID: user.id, at: self.now) }),
        ]
        for (what, revoke) in revocations {
            try await revoke()
            if case .answered = try immediately() { Issue.record("\(what) on this replica left its cached answer in place") }
            // Undo, and cache a live answer again for the next case.
            try await a.execute("DELETE FROM revoked_access_tokens")
            try await a.execute("UPDATE token_families SET revoked_at = NULL")
            _ = try await a.setDisabled(userID: user.id, disabled: false, at: now)
            #expect(try await eventually(1) { _ = try await live(a, "j1", user: user); return a.revocationCache?.count ?? 0 } == 1, "\(what)")
        }
    }

    @Test func aRevocationOnAnotherReplicaEndsACachedAnswerWhenItsNotificationArrives() async throws {
        guard let (a, b, listener, _) = try await replicas() else { return }
        defer { listener.cancel() }
        let user = User(id: "u1", username: "alice", email: nil, passwordHash: "$argon2id$stub", disabled: false, createdAt: now, updatedAt: now)
        try await b.createUser(user)
        try await b.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: nil)
        _ = try await b.grantRole("viewer", toUserID: user.id, at: now)

        #expect(try await live(a, "j1", user: user) == ["viewer"])
        // The grant's own notification may still be on its way (it flushes): read until the answer stays.
        #expect(try await eventually(1) { _ = try await live(a, "j1", user: user); return a.revocationCache?.count ?? 0 } == 1,
                "the live answer is remembered")
        _ = try await b.grantRole("admin", toUserID: user.id, at: now)
        #expect(try await eventually(["admin", "viewer"]) { try await live(a, "j1", user: user) } == ["admin", "viewer"], "a new grant")
        try await b.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
        #expect(try await eventually(nil) { try await live(a, "j1", user: user) } == nil, "a revoked jti")
        #expect(try await live(a, "j2", user: user) != nil)
        _ = try await b.setDisabled(userID: user.id, disabled: true, at: now)
        #expect(try await eventually(nil) { try await live(a, "j2", user: user) } == nil, "a disabled user")
    }

    @Test func whileTheListenerIsDownEveryCheckReadsTheDatabase() async throws {
        guard let (a, b, listener, admin) = try await replicas() else { return }
        defer { listener.cancel() }
        let user = User(id: "u1", username: "alice", email: nil, passwordHash: "$argon2id$stub", disabled: false, createdAt: now, updatedAt: now)
        try await b.createUser(user)
        try await b.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: nil)
        #expect(try await live(a, "j1", user: user) == [])
        // Cut the listener's connection: the cache must stop answering before the revocation,
        // whose notification it can no longer hear.
        try await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%portcullis_revocations%' AND pid <> pg_backend_pid()")
        try await waitUntil { a.revocationCache?.isListening == false }
        #expect(a.revocationCache?.count == 0, "what was cached is forgotten")
        #expect(try await live(a, "j2", user: user) == [])
        #expect(a.revocationCache?.count == 0, "and nothing new is kept while deaf")
        try await b.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
        try await b.revokeAccessToken(jti: "j2", expiresAt: now.addingTimeInterval(900), at: now)
        #expect(try await live(a, "j1", user: user) == nil, "read from the database, not the cache")
        #expect(try await live(a, "j2", user: user) == nil, "read from the database, not the cache")
        // The listener comes back by itself.
        try await waitUntil { a.revocationCache?.isListening == true }
    }
}
