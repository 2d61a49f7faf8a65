import Foundation
import Logging
import PortcullisCore
import PortcullisPostgres
import PortcullisStoreConformance
import PostgresNIO
import Synchronization
import Testing

/// The test server from `PORTCULLIS_TEST_POSTGRES`, read by Core's own URL parser
/// (`PostgresLocation`); TLS is always off here.
struct TestPostgresServer: Sendable {
    let location: PostgresLocation

    init(url: String) throws {
        location = try PostgresLocation(parsing: url)
    }

    func connectionConfiguration() -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user, password: location.password,
                                         database: location.database, tls: .disable)
    }

    func clientConfiguration(schema: String) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database, tls: .disable)
        configuration.options.additionalStartupParameters = [("options", "-c search_path=\(schema)")]
        // Enough for real concurrency in the races, few enough for every check running at once.
        configuration.options.maximumConnections = 8
        configuration.options.connectionIdleTimeout = .seconds(5)
        return configuration
    }
}

/// Each store (or set of replicas) gets a schema of its own, `t_<random>`, reached through the
/// connection's `search_path`; every replica is a separate `PostgresClient` (its own pool).
/// `shutDown()` stops the clients and drops the schemas.
final class PostgresStoreFactory: StoreFactory {
    let server: TestPostgresServer
    private let logger = Logger(label: "portcullis.postgres.test")
    private let started = Mutex<(runs: [Task<Void, Never>], schemas: [String])>(([], []))

    init(server: TestPostgresServer) {
        self.server = server
    }

    /// A factory on the server `PORTCULLIS_TEST_POSTGRES` names; nil when it is unset (recorded as
    /// an issue under `CI=true`, where PostgreSQL is required).
    static func fromEnvironment() throws -> PostgresStoreFactory? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["PORTCULLIS_TEST_POSTGRES"], !url.isEmpty else {
            if environment["CI"] == "true" { Issue.record("PORTCULLIS_TEST_POSTGRES is unset: PostgreSQL is required in CI") }
            return nil
        }
        return PostgresStoreFactory(server: try TestPostgresServer(url: url))
    }

    func makeStore() async throws -> any PortcullisStore {
        try await makeReplicas(1)[0]
    }

    func makeReplicas(_ count: Int) async throws -> [any PortcullisStore] {
        let clients = try await makeClients(count)
        try await PostgresMigrations.migrate(client: clients[0], logger: logger)
        return clients.map { PostgresStore(client: $0) }
    }

    /// Replicas share the database: the sweep and the decision-log trim run in one at a time.
    var replicasTakeTurnsAtMaintenance: Bool { true }

    /// Holds the lock in an open transaction on one of `replica`'s connections, as its sweep does.
    func whileHoldingMaintenanceLock<Value: Sendable>(
        _ replica: any PortcullisStore, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        guard let store = replica as? PostgresStore else { throw MaintenanceLockUnavailable(reason: "\(type(of: replica)) is not a PostgresStore") }
        guard let value = try await store.holdingMaintenanceLock(body) else {
            throw MaintenanceLockUnavailable(reason: "another process holds the maintenance lock of this fresh schema")
        }
        return value
    }

    struct MaintenanceLockUnavailable: Error, CustomStringConvertible {
        let reason: String
        var description: String { "cannot hold the maintenance lock: \(reason)" }
    }

    /// `count` running clients on one fresh, empty (unmigrated) schema.
    func makeClients(_ count: Int) async throws -> [PostgresClient] {
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin("CREATE SCHEMA \(unescaped: Self.checked(schema))")
        started.withLock { $0.schemas.append(schema) }
        var clients: [PostgresClient] = []
        for _ in 0..<count {
            let client = PostgresClient(configuration: server.clientConfiguration(schema: schema))
            let run = Task { await client.run() }
            started.withLock { $0.runs.append(run) }
            clients.append(client)
        }
        return clients
    }

    /// Stops every client this factory started and drops its schemas.
    func shutDown() async {
        let (runs, schemas) = started.withLock { state in
            defer { state = ([], []) }
            return (state.runs, state.schemas)
        }
        for run in runs { run.cancel() }
        for run in runs { await run.value }
        for schema in schemas { try? await admin("DROP SCHEMA \(unescaped: Self.checked(schema)) CASCADE") }
    }

    /// Runs one statement on a short-lived connection outside any test schema.
    private func admin(_ query: PostgresQuery) async throws {
        let connection = try await PostgresConnection.connect(configuration: server.connectionConfiguration(), id: 0, logger: logger)
        do {
            for try await _ in try await connection.query(query, logger: logger) {}
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A schema name is an identifier and cannot be bound: only names this factory generated pass.
    private static func checked(_ schema: String) -> String {
        precondition(schema.hasPrefix("t_") && schema.dropFirst(2).allSatisfy { $0.isHexDigit && !$0.isUppercase }, "unexpected schema name \(schema)")
        return schema
    }
}

/// The shared store suite on PostgreSQL, every race across two clients standing in for two replicas.
///
/// Needs `PORTCULLIS_TEST_POSTGRES`; without it the checks are skipped with a note, except when
/// `CI=true`, where a missing server fails the run: CI never silently drops the PostgreSQL half.
@Test(arguments: StoreConformance.checks)
func postgresStorePasses(_ check: ConformanceCheck) async throws {
    let environment = ProcessInfo.processInfo.environment
    guard let url = environment["PORTCULLIS_TEST_POSTGRES"], !url.isEmpty else {
        if environment["CI"] == "true" {
            Issue.record("PORTCULLIS_TEST_POSTGRES is unset: PostgreSQL is required in CI, the PostgreSQL conformance run cannot be skipped there")
        } else {
            print("note: PORTCULLIS_TEST_POSTGRES is unset; \(check) not run on PostgreSQL")
        }
        return
    }
    let factory = PostgresStoreFactory(server: try TestPostgresServer(url: url))
    do {
        try await check.run(factory)
    } catch {
        await factory.shutDown()
        throw error
    }
    await factory.shutDown()
}
