import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore {
    public func appendDecisions(_ records: [DecisionRecord], capacity: Int) async throws {
        try await pool.write { db in
            for record in records { try DecisionLogRecord(record).insert(db) }
            try db.execute(sql: "DELETE FROM decision_log WHERE id <= (SELECT MAX(id) FROM decision_log) - ?", arguments: [capacity])
        }
    }

    public func recentDecisions(limit: Int) async throws -> [DecisionRecord] {
        try await pool.read { db in
            try DecisionLogRecord.fetchAll(db, sql: "SELECT * FROM decision_log ORDER BY id DESC LIMIT ?", arguments: [limit]).map(\.record)
        }
    }
}
