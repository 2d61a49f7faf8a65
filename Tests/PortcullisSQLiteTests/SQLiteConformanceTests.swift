import Foundation
import PortcullisCore
import PortcullisSQLite
import PortcullisStoreConformance
import Testing

/// A fresh SQLite file in its own temporary directory for each store.
struct SQLiteStoreFactory: StoreFactory {
    func makeStore() async throws -> any PortcullisStore {
        try await makeReplicas(1)[0]
    }

    /// One new file opened `count` times: separate pools and writers, as separate processes would have.
    func makeReplicas(_ count: Int) async throws -> [any PortcullisStore] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-conformance-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("test.db").path
        return try (0..<count).map { _ in try SQLiteStore(path: path) }
    }

    /// One writer at a time on a SQLite file: every process may sweep and trim, there are no turns.
    var replicasTakeTurnsAtMaintenance: Bool { false }

    func whileHoldingMaintenanceLock<Value: Sendable>(
        _ replica: any PortcullisStore, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await body()
    }
}

/// The shared store suite on SQLite: every check every backend must pass.
@Test(arguments: StoreConformance.checks)
func sqliteStorePasses(_ check: ConformanceCheck) async throws {
    try await check.run(SQLiteStoreFactory())
}
