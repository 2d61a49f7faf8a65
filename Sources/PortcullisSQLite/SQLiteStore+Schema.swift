import GRDB
public import PortcullisCore

extension SQLiteStore {
    /// One read of GRDB's `grdb_migrations` against this binary's list: an identifier recorded there
    /// that the list lacks was applied by a newer binary.
    public func schemaStatus() async throws -> SchemaStatus {
        let known = Migrations.identifiers
        return try await pool.read { db in
            let applied: Set<String> = try db.tableExists("grdb_migrations") ? String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations") : []
            return SchemaStatus.comparing(applied: applied, known: known)
        }
    }
}
