import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import PortcullisCore
import PortcullisServer
import PortcullisSQLite
import Synchronization
import Testing

/// `/readyz`: ready only when the database answers and holds exactly this binary's migrations.
@Suite struct ReadinessTests {
    @Test func aDatabaseWithExactlyThisBinarysMigrationsIsReady() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let response = try await client.get("/readyz")
            #expect(response.status == .ok)
            let ready = try response.json()
            #expect(ready["status"] as? String == "ready")
            #expect(ready["database"] as? String == "ok")
            #expect(ready["schema"] as? String == "current")
            #expect(ready["schema_migrations"] as? [String] == [])
        }
    }

    @Test func aDatabaseMissingTheNewestMigrationIsNotReady() async throws {
        let harness = try await Harness()
        // As if this binary ran against a database an older release left (migration skipped).
        let newest = try await harness.store.databaseWriter.write { db in
            let id = try String.fetchOne(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [id])
            return id
        }
        try await harness.test { client in
            let response = try await client.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            let ready = try response.json()
            #expect(ready["status"] as? String == "unavailable")
            #expect(ready["database"] as? String == "ok")
            #expect(ready["schema"] as? String == "behind")
            #expect(ready["schema_migrations"] as? [String] == [try #require(newest)])
        }
    }

    @Test func aDatabaseANewerReleaseMigratedStaysReadyAndSaysSo() async throws {
        let harness = try await Harness()
        try await harness.store.databaseWriter.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        try await harness.test { client in
            // Migrations are additive: the older replica keeps serving through a rolling upgrade.
            let response = try await client.get("/readyz")
            #expect(response.status == .ok)
            let ready = try response.json()
            #expect(ready["schema"] as? String == "ahead")
            #expect(ready["schema_migrations"] as? [String] == ["v99-from-the-future"])
            #expect(ready["signing_key"] as? String == (try harness.keys.signingKID()), "the key ring is still reported")
        }
    }

    @Test func theSchemaIsReadAtMostOncePerMaxAgeAndAFailureIsNotKept() async throws {
        let store = ScriptedSchemaStore()
        let clock = Mutex(ContinuousClock.now)
        let cache = SchemaStatusCache(store: store, maxAge: .seconds(5), now: { clock.withLock { $0 } })
        #expect(await cache.status() == .current)
        store.answer.withLock { $0 = .success(.ahead(unknown: ["v9"])) }
        clock.withLock { $0 += .seconds(4) }
        #expect(await cache.status() == .current, "within max age: the cached answer")
        #expect(store.reads.withLock { $0 } == 1)
        clock.withLock { $0 += .seconds(1) }
        #expect(await cache.status() == .ahead(unknown: ["v9"]), "past max age: read again")
        store.answer.withLock { $0 = .failure(PortcullisError.unavailable("down")) }
        clock.withLock { $0 += .seconds(5) }
        #expect(await cache.status() == nil, "a failure is unknown")
        store.answer.withLock { $0 = .success(.current) }
        #expect(await cache.status() == .current, "and not cached: the next probe reads again")
        #expect(store.reads.withLock { $0 } == 4)
    }
}

/// Answers what the test sets, counting reads.
final class ScriptedSchemaStore: SchemaStatusStore {
    let answer = Mutex<Result<SchemaStatus, PortcullisError>>(.success(.current))
    let reads = Mutex(0)

    func schemaStatus() async throws -> SchemaStatus {
        reads.withLock { $0 += 1 }
        return try answer.withLock { $0 }.get()
    }
}
