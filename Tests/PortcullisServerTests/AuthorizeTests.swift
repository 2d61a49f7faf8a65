import Foundation
import HummingbirdTesting
import PortcullisCore
import PortcullisPolicy
import PortcullisServer
import Testing

@Suite struct AuthorizeTests {
    @Test func tokenFormDecidesWithDenyOverridesAndNamesTheRule() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["editor"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let write = try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": "documents/plan"]).json()
            #expect(write["allowed"] as? Bool == true)
            #expect(write["subject"] as? String == "alice")
            #expect(write["roles"] as? [String] == ["editor", "viewer"])
            #expect((write["reason"] as? String)?.contains("test.yaml:6") == true, "\(write)")

            let read = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/plan"]).json()
            #expect((read["reason"] as? String)?.contains("test.yaml:3") == true, "inherited from viewer: \(read)")

            let secret = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/secret/x"]).json()
            #expect(secret["allowed"] as? Bool == false)
            #expect((secret["reason"] as? String)?.contains("test.yaml:7") == true, "the deny wins: \(secret)")

            let nothing = try await client.post("/v1/authorize", json: ["token": access, "action": "delete", "resource": "billing/1"]).json()
            #expect(nothing["allowed"] as? Bool == false)
            #expect(nothing["reason"] as? String == "no rule matched")
        }
    }

    @Test func roleRevocationTakesEffectAtTheNextDecision() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["editor"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            #expect(try decodePart(access, index: 1)["roles"] as? [String] == ["editor", "viewer"], "the claim lists effective roles")
            #expect(try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": "documents/a"]).json()["allowed"] as? Bool == true)
            #expect(try await harness.admin.revokeRole("editor", from: "alice"))
            let after = try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": "documents/a"]).json()
            #expect(after["allowed"] as? Bool == false)
            #expect(after["roles"] as? [String] == [])
        }
    }

    @Test func subjectFormNeedsACallerAllowedToCheck() async throws {
        let harness = try await Harness()
        try await harness.addUser("alice", roles: ["viewer"])
        try await harness.addUser("checker", roles: ["authz-checker"])
        try await harness.test { client in
            let alice = try #require(try await client.login("alice")["access_token"] as? String)
            let checker = try #require(try await client.login("checker")["access_token"] as? String)
            let refused = try await client.post("/v1/authorize", json: ["subject": "checker", "action": "check", "resource": "portcullis/authz"], bearer: alice)
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "forbidden")
            #expect(try await client.post("/v1/authorize", json: ["subject": "alice", "action": "read", "resource": "documents/a"]).status == .unauthorized)

            let aboutAlice = try await client.post("/v1/authorize", json: ["subject": "alice", "action": "read", "resource": "documents/a"], bearer: checker).json()
            #expect(aboutAlice["allowed"] as? Bool == true)
            #expect(aboutAlice["subject"] as? String == "alice")
            // A static binding: a service account that is not a user.
            let service = try await client.post("/v1/authorize", json: ["subject": "svc-billing", "action": "read", "resource": "documents/invoice"], bearer: checker).json()
            #expect(service["allowed"] as? Bool == true)
            #expect(service["roles"] as? [String] == ["authz-checker", "viewer"])
            let stranger = try await client.post("/v1/authorize", json: ["subject": "nobody", "action": "read", "resource": "documents/a"], bearer: checker).json()
            #expect(stranger["allowed"] as? Bool == false)
        }
    }

    @Test func badAuthorizeRequestsGet4xx() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            #expect(try await client.post("/v1/authorize", json: ["token": "garbage", "action": "read", "resource": "x"]).status == .unauthorized)
            #expect(try await client.post("/v1/authorize", json: ["token": access, "resource": "x"]).status == .badRequest)
            #expect(try await client.post("/v1/authorize", json: ["token": access, "subject": "alice", "action": "read", "resource": "x"]).status == .badRequest)
            #expect(try await client.post("/v1/authorize", json: ["action": "read", "resource": "x"]).status == .badRequest)
            #expect(try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": String(repeating: "r", count: 5000)]).status == .badRequest)
        }
    }

    @Test func decisionsAreLoggedAndADiffListsExactlyTheFlips() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["editor"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            for (action, resource) in [("write", "documents/a"), ("read", "documents/a"), ("read", "documents/secret/b"), ("write", "documents/a")] {
                let response = try await client.post("/v1/authorize", json: ["token": access, "action": action, "resource": resource])
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
        }
        try await harness.services.decisionLog?.flush()
        let records = try await harness.store.recentDecisions(limit: 100)
        #expect(records.count == 4)
        #expect(records.allSatisfy { $0.subject == "alice" && $0.grantedRoles == ["editor"] && $0.policyVersion == harness.policies.current.version })
        // A candidate where editors lose write: exactly the write question flips (logged twice, reported once).
        let candidate = try Policy.compile([PolicySource(name: "candidate.yaml", contents: testPolicyYAML.replacingOccurrences(of: "allow: [\"documents/*:write\"]", with: "allow: []"))])
        let flips = PolicyDiff.flips(of: records, under: candidate)
        #expect(flips.count == 1)
        #expect(flips.first?.record.action == "write" && flips.first?.candidateAllowed == false)
        #expect(PolicyDiff.flips(of: records, under: harness.policies.current).isEmpty)
    }

    @Test func decisionLogKeepsOnlyTheNewestEntries() async throws {
        let harness = try await Harness { $0.decisionLogSize = 3 }
        let log = try #require(harness.services.decisionLog)
        for index in 0..<5 {
            log.record(DecisionRecord(at: Date(), subject: "s\(index)", grantedRoles: [], action: "a", resource: "r", allowed: false, rule: nil, policyVersion: "v"))
        }
        try await log.flush()
        for index in 5..<7 {
            log.record(DecisionRecord(at: Date(), subject: "s\(index)", grantedRoles: [], action: "a", resource: "r", allowed: false, rule: nil, policyVersion: "v"))
            try await log.flush()
        }
        #expect(try await harness.store.recentDecisions(limit: 10).map(\.subject) == ["s6", "s5", "s4"])
    }
}

/// A decision-log store whose writes fail until told otherwise, and (like GRDB) refuse cancelled tasks.
final class FlakyDecisionStore: DecisionLogStore, @unchecked Sendable {
    let lock = NSLock()
    var failing = true
    var stored: [DecisionRecord] = []

    func appendDecisions(_ records: [DecisionRecord], capacity: Int) async throws {
        try Task.checkCancellation()
        try lock.withLock {
            if failing { throw CancellationError() }
            stored.append(contentsOf: records)
        }
    }

    func recentDecisions(limit: Int) async throws -> [DecisionRecord] {
        lock.withLock { Array(stored.reversed().prefix(limit)) }
    }
}

@Suite struct DecisionLogTests {
    @Test func aFailedFlushKeepsTheBatchForTheNextOne() async throws {
        let store = FlakyDecisionStore()
        let log = DecisionLog(store: store, capacity: 10)
        let record = { (subject: String) in
            DecisionRecord(at: Date(), subject: subject, grantedRoles: [], action: "a", resource: "r", allowed: true, rule: nil, policyVersion: "v")
        }
        log.record(record("first"))
        await #expect(throws: CancellationError.self) { try await log.flush() }
        log.record(record("second"))
        store.lock.withLock { store.failing = false }
        #expect(try await log.flush() == 2)
        #expect(try await store.recentDecisions(limit: 10).map(\.subject) == ["second", "first"])
    }

    @Test func aBacklogPastCapacityKeepsTheNewestInOrder() async throws {
        // The store fell behind: 25 decisions recorded against a capacity of 10 (trimmed lazily,
        // at twice the capacity) are flushed as the newest 10, oldest first.
        let store = FlakyDecisionStore()
        store.lock.withLock { store.failing = false }
        let log = DecisionLog(store: store, capacity: 10)
        for index in 0..<25 {
            log.record(DecisionRecord(at: Date(), subject: "s\(index)", grantedRoles: [], action: "a", resource: "r", allowed: true, rule: nil, policyVersion: "v"))
        }
        #expect(try await log.flush() == 10)
        #expect(try await store.recentDecisions(limit: 100).map(\.subject) == (15..<25).reversed().map { "s\($0)" })
        #expect(try await log.flush() == 0, "nothing left behind")
    }

    @Test func runFlushesOnceMoreAfterCancellation() async throws {
        let store = FlakyDecisionStore()
        store.failing = false
        let log = DecisionLog(store: store, capacity: 10)
        let task = Task { await log.run(every: .seconds(60)) }
        log.record(DecisionRecord(at: Date(), subject: "last", grantedRoles: [], action: "a", resource: "r", allowed: true, rule: nil, policyVersion: "v"))
        task.cancel()
        await task.value
        #expect(try await store.recentDecisions(limit: 10).map(\.subject) == ["last"])
    }
}

@Suite struct PolicyReloadTests {
    func policyDirectory(_ yaml: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-policies-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try yaml.write(toFile: directory + "/main.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    @Test func validChangeTakesEffectWithinTwoSecondsAndInvalidOneKeepsTheOldPolicy() async throws {
        let directory = try policyDirectory(testPolicyYAML)
        let harness = try await Harness(policyDirectory: directory)
        try await harness.addUser(roles: ["viewer"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let question: [String: Any] = ["token": access, "action": "write", "resource": "documents/a"]
            #expect(try await client.post("/v1/authorize", json: question).json()["allowed"] as? Bool == false)
            let oldVersion = try #require(try await client.get("/readyz").json()["policy_version"] as? String)

            // Viewers may now write.
            try testPolicyYAML.replacingOccurrences(of: "allow: [\"documents/*:read\"]", with: "allow: [\"documents/*:read\", \"documents/*:write\"]")
                .write(toFile: directory + "/main.yaml", atomically: true, encoding: .utf8)
            let start = ContinuousClock.now
            var allowed = false
            while !allowed, ContinuousClock.now - start < .seconds(2) {
                try await Task.sleep(for: .milliseconds(100))
                allowed = try await client.post("/v1/authorize", json: question).json()["allowed"] as? Bool == true
            }
            #expect(allowed, "a valid change must take effect within 2 s")
            let ready = try await client.get("/readyz").json()
            let newVersion = try #require(ready["policy_version"] as? String)
            #expect(newVersion != oldVersion)

            // An invalid change: the last good policy stays, readyz reports the error.
            try "roles:\n  viewer:\n    inherits: [ghost]\n".write(toFile: directory + "/main.yaml", atomically: true, encoding: .utf8)
            var errors: [String] = []
            while errors.isEmpty, ContinuousClock.now - start < .seconds(6) {
                try await Task.sleep(for: .milliseconds(100))
                errors = try await client.get("/readyz").json()["policy_errors"] as? [String] ?? []
            }
            #expect(errors.first?.hasPrefix("main.yaml:3") == true, "\(errors)")
            #expect(try await client.get("/readyz").json()["policy_version"] as? String == newVersion)
            #expect(try await client.post("/v1/authorize", json: question).json()["allowed"] as? Bool == true)
            let metrics = String(buffer: try await client.get("/metrics").body)
            #expect(metrics.contains(#"portcullis_policy_reloads_total{result="reloaded"} 1"#))
            #expect(metrics.contains(#"portcullis_policy_reloads_total{result="rejected"} 1"#))
        }
    }

    @Test func providerRefusesAnInvalidDirectoryAtStart() throws {
        let directory = try policyDirectory("roles:\n  a:\n    allow: [\"x*y:read\"]\n")
        #expect(throws: PolicyLoadError.self) { try PolicyProvider(directory: directory) }
    }
}
