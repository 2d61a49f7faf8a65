import Foundation
import GRDB
import HummingbirdTesting
import PortcullisCore
import PortcullisServer
import Testing

@Suite struct AuditChainTests {
    /// A harness with a few audit events from real requests.
    func harnessWithEvents() async throws -> Harness {
        let harness = try await Harness()
        try await harness.addUser(roles: ["viewer"])
        try await harness.test { client in
            _ = try await client.login()
            _ = try await client.post("/v1/login", json: ["username": "alice", "password": "wrong password"])
        }
        return harness
    }

    func verdict(_ harness: Harness) async throws -> AuditChain.Verdict {
        AuditChain.verify(try await harness.store.auditEntries())
    }

    @Test func anUntouchedLogVerifiesAndEveryRowIsChained() async throws {
        let harness = try await harnessWithEvents()
        let entries = try await harness.store.auditEntries()
        #expect(entries.count >= 3)
        guard case .intact(let events, let head) = try await verdict(harness) else { Issue.record("expected intact"); return }
        #expect(events == entries.count && head == entries.last?.chainHash)
    }

    @Test(arguments: [
        "UPDATE audit_events SET detail = 'edited' WHERE id = 2",
        "UPDATE audit_events SET at = at + 1 WHERE id = 2",
        "UPDATE audit_events SET actor = 'someone else' WHERE id = 2",
        "UPDATE audit_events SET pseudonymised = 1 WHERE id = 2",
    ])
    func anEditedRowIsTheFirstBrokenLink(sql: String) async throws {
        let harness = try await harnessWithEvents()
        try await harness.store.databaseWriter.write { try $0.execute(sql: sql) }
        guard case .broken(let id, _) = try await verdict(harness) else { Issue.record("expected broken"); return }
        #expect(id == 2)
    }

    @Test func aDeletedOrRecomputedRowBreaksTheNextLink() async throws {
        let harness = try await harnessWithEvents()
        try await harness.store.databaseWriter.write { try $0.execute(sql: "DELETE FROM audit_events WHERE id = 2") }
        guard case .broken(let id, let reason) = try await verdict(harness) else { Issue.record("expected broken"); return }
        #expect(id == 3 && reason.contains("does not follow"))

        // An attacker who edits a row and recomputes its own hashes still breaks the next row's link.
        let other = try await harnessWithEvents()
        try await other.store.databaseWriter.write { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM audit_events WHERE id = 2"))
            var event = SQLiteStoreAuditRow.event(row)
            event.detail = "forged"
            let previous = try String.fetchOne(db, sql: "SELECT chain_hash FROM audit_events WHERE id = 1")!
            let content = AuditChain.contentHash(event)
            try db.execute(sql: "UPDATE audit_events SET detail = ?, content_hash = ?, chain_hash = ? WHERE id = 2",
                           arguments: ["forged", content, AuditChain.link(previous: previous, content: content)])
        }
        guard case .broken(let forgedID, _) = try await verdict(other) else { Issue.record("expected broken"); return }
        #expect(forgedID == 3)
    }

    @Test func erasureRemovesPersonalDataAndKeepsTheChainVerifiable() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["viewer"])
        try await harness.addUser("bob")
        try await harness.addClient(firstParty: true)
        let userID = try #require(try await harness.store.user(username: "alice")?.id)
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            _ = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            _ = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/x"])
            _ = try await client.post("/v1/login", json: ["username": "alice", "password": "wrong password"])
            _ = try await client.login("bob")
        }
        try await harness.services.decisionLog?.flush()
        let (pseudonym, events) = try await harness.admin.eraseUser("alice")
        #expect(events >= 4)
        #expect(pseudonym.hasPrefix("erased-"))
        #expect(try await harness.store.user(username: "alice") == nil)
        guard case .intact = try await verdict(harness) else { Issue.record("the chain must still verify after erasure"); return }

        // Nothing in any table names alice any more; bob's data is untouched.
        let needles = ["alice", userID, "127.0.0.1"].map { Array($0.utf8) }
        let bobSeen = try await harness.store.databaseWriter.read { db in
            var bob = false
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                    for (column, value) in row {
                        guard case .string(let text) = value.storage else { continue }
                        for needle in needles.prefix(2) where contains(Array(text.utf8), needle) {
                            Issue.record("\(table).\(column) still holds \(String(decoding: needle, as: UTF8.self))")
                        }
                        if text == "bob" { bob = true }
                    }
                }
            }
            return bob
        }
        #expect(bobSeen)
        let trail = try await harness.store.recentAudit(limit: 100)
        #expect(trail.contains { $0.action == "user.erase" && $0.subject == pseudonym })
        #expect(trail.filter { $0.subject == pseudonym || $0.actor == pseudonym }.allSatisfy { $0.remoteAddress == nil && $0.detail == nil || $0.action == "user.erase" })
    }
}

/// Reads an audit row the way the store does (the store's helper is internal to its module).
enum SQLiteStoreAuditRow {
    static func event(_ row: Row) -> AuditEvent {
        AuditEvent(id: row["id"], at: Date(timeIntervalSince1970: row["at"]), action: row["action"], actor: row["actor"],
                   subject: row["subject"], remoteAddress: row["remote_address"], detail: row["detail"])
    }
}
