public import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore {
    public func appendDecisions(_ records: [DecisionRecord], capacity: Int) async throws {
        try await pool.write { db in
            for record in records {
                try db.execute(
                    sql: """
                        INSERT INTO decision_log (at, subject, granted_roles, action, resource, allowed, rule, policy_version)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [record.at.timeIntervalSince1970, record.subject, record.grantedRoles.joined(separator: "\n"),
                                record.action, record.resource, record.allowed, record.rule, record.policyVersion])
            }
            try db.execute(sql: "DELETE FROM decision_log WHERE id <= (SELECT MAX(id) FROM decision_log) - ?", arguments: [capacity])
        }
    }

    public func recentDecisions(limit: Int) async throws -> [DecisionRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM decision_log ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                let roles: String = row["granted_roles"]
                return DecisionRecord(
                    at: Date(timeIntervalSince1970: row["at"]), subject: row["subject"],
                    grantedRoles: roles.isEmpty ? [] : roles.components(separatedBy: "\n"),
                    action: row["action"], resource: row["resource"], allowed: row["allowed"],
                    rule: row["rule"], policyVersion: row["policy_version"])
            }
        }
    }
}
