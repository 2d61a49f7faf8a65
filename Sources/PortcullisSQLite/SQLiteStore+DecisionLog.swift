import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore {
    public func appendDecisions(_ records: [DecisionRecord], capacity: Int) async throws {
        try await pool.write { db in
            // One cached statement for every row: GRDB's Codable insert cost a tenth of an authorize.
            let insert = try db.cachedStatement(sql: """
                INSERT INTO decision_log (at, subject, granted_roles, action, resource, allowed, rule, policy_version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for record in records {
                try insert.execute(arguments: [
                    record.at.timeIntervalSince1970, record.subject, DecisionLogRecord.joined(record.grantedRoles), record.action,
                    record.resource, record.allowed, record.rule, record.policyVersion,
                ])
            }
            try db.execute(sql: "DELETE FROM decision_log WHERE id <= (SELECT MAX(id) FROM decision_log) - ?", arguments: [capacity])
        }
    }

    public func recentDecisions(limit: Int) async throws -> [DecisionRecord] {
        try await pool.read { db in
            try DecisionLogRecord.fetchAll(db, sql: "SELECT * FROM decision_log ORDER BY id DESC LIMIT ?", arguments: [limit]).map(\.record)
        }
    }
}
