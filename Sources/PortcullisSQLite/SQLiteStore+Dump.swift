import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore: DumpableStore {
    public func dumpTables() async throws -> [TableDump] {
        try await pool.read { db in
            try TableDump.tableOrder.map { table in
                // Tables WITHOUT ROWID come in primary-key order; the others in insertion order.
                let order = Self.withoutRowID.contains(table) ? "" : " ORDER BY rowid"
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table)\(order)")
                let columns = try db.columns(in: table).map(\.name)
                return TableDump(table: table, columns: columns, rows: rows.map { row in columns.map { Self.cell(row[$0] as DatabaseValue) } })
            }
        }
    }

    static let withoutRowID: Set<String> = ["role_grants", "recovery_codes", "oauth_consents"]

    static func cell(_ value: DatabaseValue) -> CellValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
