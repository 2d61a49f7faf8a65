import Foundation
import Logging
import PortcullisCore
import PortcullisPostgres
import PostgresNIO
import Testing

@Suite struct PostgresMigrationListTests {
    @Test func migrationIDsAreUniqueAndEveryStatementIsSplitOut() {
        let ids = PostgresMigrations.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(PostgresMigrations.all.allSatisfy { $0.checksum.count == 64 })
        for migration in PostgresMigrations.all {
            let statements = migration.statements
            // The extended protocol runs one statement at a time: none may hold a second one.
            #expect(statements.count == migration.sql.components(separatedBy: ";\n").count, "\(migration.id)")
            #expect(statements.allSatisfy { !$0.isEmpty && !$0.contains(";\n") && !$0.hasSuffix(";") }, "\(migration.id)")
        }
        #expect(PostgresMigrations.all[0].statements.count == 20, "v1-schema: its CREATE and INSERT statements, one each")
    }
}

/// `portcullis migrate` on a real server: the advisory lock, the checksums, the pending list.
@Suite struct PostgresMigrationTests {
    let logger = Logger(label: "portcullis.migration.test")

    /// A factory on the test server, or nil (with CI failing) when there is none.
    func factory() throws -> PostgresStoreFactory? {
        try PostgresStoreFactory.fromEnvironment()
    }

    func count(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int {
        var value = 0
        for try await number in try await client.query(query).decode(Int.self) { value = number }
        return value
    }

    @Test func replicasMigratingAtOnceApplyEachMigrationOnce() async throws {
        guard let factory = try factory() else { return }
        let clients = try await factory.makeClients(4)
        #expect(try await PostgresMigrations.pending(client: clients[0], logger: logger) == PostgresMigrations.all.map(\.id))
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for client in clients { group.addTask { try await PostgresMigrations.migrate(client: client, logger: self.logger) } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied == PostgresMigrations.all.map(\.id), "exactly one replica applied the migrations: \(applied)")
        #expect(try await count(clients[1], "SELECT count(*)::bigint FROM schema_migrations") == PostgresMigrations.all.count)
        #expect(try await PostgresMigrations.pending(client: clients[2], logger: logger).isEmpty)
        await factory.shutDown()
    }

    @Test func aDatabaseWhoseRecordedChecksumDiffersIsRefused() async throws {
        guard let factory = try factory() else { return }
        let client = try await factory.makeClients(1)[0]
        try await PostgresMigrations.migrate(client: client, logger: logger)
        try await client.query("UPDATE schema_migrations SET checksum = 'edited' WHERE id = 'v1-schema'")
        await #expect(throws: PostgresMigrations.Problem.checksumMismatch(id: "v1-schema")) {
            try await PostgresMigrations.migrate(client: client, logger: self.logger)
        }
        await #expect(throws: PostgresMigrations.Problem.checksumMismatch(id: "v1-schema")) {
            try await PostgresMigrations.pending(client: client, logger: self.logger)
        }
        try await client.query("INSERT INTO schema_migrations (id, checksum, applied_at) VALUES ('v99-future', 'x', 0)")
        try await client.query("DELETE FROM schema_migrations WHERE id = 'v1-schema'")
        await #expect(throws: PostgresMigrations.Problem.unknownMigration(id: "v99-future")) {
            try await PostgresMigrations.pending(client: client, logger: self.logger)
        }
        await factory.shutDown()
    }

    @Test func schemaStatusComparesTheRecordedMigrationsWithThisBinarys() async throws {
        guard let factory = try factory() else { return }
        let client = try await factory.makeClients(1)[0]
        try await PostgresMigrations.migrate(client: client, logger: logger)
        let store = PostgresStore(client: client)
        #expect(try await store.schemaStatus() == .current)
        try await client.query("UPDATE schema_migrations SET checksum = 'edited' WHERE id = 'v1-schema'")
        #expect(try await store.schemaStatus() == .diverged(ids: ["v1-schema"]))
        try await client.query("INSERT INTO schema_migrations (id, checksum, applied_at) VALUES ('v99-future', 'x', 0)")
        #expect(try await store.schemaStatus() == .ahead(unknown: ["v99-future"]), "a newer list wrote it")
        try await client.query("DELETE FROM schema_migrations")
        #expect(try await store.schemaStatus() == .behind(pending: PostgresMigrations.all.map(\.id)))
        await factory.shutDown()
    }
}
