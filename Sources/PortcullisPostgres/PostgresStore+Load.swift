import Foundation
public import PortcullisCore
import PostgresNIO
import Logging

extension PostgresStore: LoadableStore {
    public func loadTables(_ tables: [TableDump]) async throws {
        defer { tokensMayHaveEnded() }
        let logger = self.logger
        try await transaction { connection in
            // Nobody may write meanwhile, and only into an empty deployment.
            try await connection.execute("LOCK TABLE users, oauth_clients, audit_events, audit_head IN EXCLUSIVE MODE", logger: logger)
            let occupied = try await connection.rows("""
                SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM oauth_clients) + (SELECT count(*) FROM audit_events) AS n
                """, logger: logger)
            guard try occupied.first?.value("n", as: Int64.self) == 0 else {
                throw PortcullisError.conflict("the PostgreSQL database already holds users, clients or audit events; import only into an empty one")
            }
            for dump in tables where !dump.rows.isEmpty {
                let types = try await Self.columnTypes(of: dump.table, connection: connection, logger: logger)
                try await Self.load(dump, types: types, connection: connection, logger: logger)
            }
            // The chain's head and the identity sequence continue where the copy ends.
            try await connection.execute("""
                UPDATE audit_head SET seq = COALESCE((SELECT max(id) FROM audit_events), 0),
                       chain_hash = COALESCE((SELECT chain_hash FROM audit_events ORDER BY id DESC LIMIT 1), audit_head.chain_hash)
                WHERE id = 1
                """, logger: logger)
            try await connection.execute("""
                SELECT setval(pg_get_serial_sequence('decision_log', 'id'), COALESCE((SELECT max(id) FROM decision_log), 0) + 1, false)
                """, logger: logger)
        }
    }

    /// The PostgreSQL type of each column of `table` (`information_schema` names: text, boolean, bytea, …).
    static func columnTypes(of table: String, connection: PostgresConnection, logger: Logger) async throws -> [String: String] {
        var types: [String: String] = [:]
        for row in try await connection.rows("""
            SELECT column_name, data_type FROM information_schema.columns WHERE table_name = \(table) AND table_schema = current_schema()
            """, logger: logger) {
            types[try row.value("column_name", as: String.self)] = try row.value("data_type", as: String.self)
        }
        guard !types.isEmpty else { throw PortcullisError.internalFailure("table \(table) is missing; migrate first") }
        return types
    }

    /// Inserts every row of `dump`, converting each cell to its column's type; columns PostgreSQL
    /// derives (the username key, the audit chain's previous hash) are computed here.
    static func load(_ dump: TableDump, types: [String: String], connection: PostgresConnection, logger: Logger) async throws {
        let copied = dump.columns.filter { types[$0] != nil && $0 != "username_key" }
        var columns = copied
        if dump.table == "users" { columns.append("username_key") }
        if dump.table == "audit_events" { columns.append("previous_hash") }
        let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
        let overriding = dump.table == "decision_log" ? " OVERRIDING SYSTEM VALUE" : ""
        let sql = "INSERT INTO \(dump.table) (\(columns.joined(separator: ", ")))\(overriding) VALUES (\(placeholders))"
        var previousChain = AuditChain.genesis
        for row in dump.rows {
            var cells: [String: CellValue] = [:]
            for (index, column) in dump.columns.enumerated() where index < row.count { cells[column] = row[index] }
            var bindings = PostgresBindings()
            for column in copied {
                try bind(cells[column] ?? .null, as: types[column] ?? "text", column: "\(dump.table).\(column)", into: &bindings)
            }
            if dump.table == "users" {
                guard case .text(let username) = cells["username"] ?? .null else { throw PortcullisError.invalidRequest("users row without a username") }
                bindings.append(User.key(forUsername: username))
            }
            if dump.table == "audit_events" {
                bindings.append(previousChain)
                if case .text(let chain) = cells["chain_hash"] ?? .null { previousChain = chain }
            }
            try await connection.execute(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        }
    }

    static func bind(_ cell: CellValue, as type: String, column: String, into bindings: inout PostgresBindings) throws {
        func mismatch() -> PortcullisError { .invalidRequest("\(column): cannot store \(cell) as \(type)") }
        switch (type, cell) {
        case ("boolean", .null): bindings.append(Bool?.none)
        case ("boolean", .integer(let number)): bindings.append(number != 0)
        case ("bytea", .null): bindings.append(ByteBuffer?.none)
        case ("bytea", .blob(let bytes)): bindings.append(ByteBuffer(bytes: bytes))
        case ("double precision", .null): bindings.append(Double?.none)
        case ("double precision", .real(let number)): bindings.append(number)
        case ("double precision", .integer(let number)): bindings.append(Double(number))
        case ("bigint", .null): bindings.append(Int64?.none)
        case ("bigint", .integer(let number)): bindings.append(number)
        case ("integer", .null): bindings.append(Int32?.none)
        case ("integer", .integer(let number)):
            guard let narrow = Int32(exactly: number) else { throw mismatch() }
            bindings.append(narrow)
        case ("text", .null): bindings.append(String?.none)
        case ("text", .text(let text)): bindings.append(text)
        default: throw mismatch()
        }
    }
}
