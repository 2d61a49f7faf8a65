import Foundation
import Hummingbird
import HummingbirdTesting
import PortcullisCore
import PortcullisServer
import Testing

@Suite struct MetricsTests {
    @Test func metricsCountRequestsLoginsTokensDecisionsAndArgon2() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["viewer"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            _ = try await client.post("/v1/login", json: ["username": "alice", "password": "wrong password"])
            _ = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/a"])
            _ = try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": "documents/a"])
            _ = try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": "documents/b"])
            let response = try await client.get("/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(buffer: response.body)
            #expect(prometheusSample(text, #"portcullis_events_total{event="login.success"}"#) == 1)
            #expect(prometheusSample(text, #"portcullis_events_total{event="login.failure"}"#) == 1)
            #expect(prometheusSample(text, #"portcullis_tokens_issued_total{grant="password"}"#) == 1)
            #expect(prometheusSample(text, #"portcullis_policy_decisions_total{result="allow"}"#) == 1)
            #expect(prometheusSample(text, #"portcullis_policy_decisions_total{result="deny"}"#) == 2)
            #expect(prometheusSample(text, #"portcullis_http_requests_total{method="POST",route="/v1/authorize",status="200"}"#) == 3)
            #expect(prometheusSample(text, #"portcullis_http_requests_total{method="POST",route="/v1/login",status="401"}"#) == 1)
            #expect(text.contains(#"portcullis_http_request_duration_seconds_bucket{method="POST",route="/v1/login""#))
            #expect(prometheusSample(text, "portcullis_argon2_wait_seconds_count").map { $0 >= 2 } == true, "two logins hashed (at least)")
            #expect(prometheusSample(text, "portcullis_argon2_queue_depth") == 0)
        }
    }

    @Test func metricsShowThePolicyVersionInForceAndWhenThisReplicaLoadedIt() async throws {
        let harness = try await Harness()
        let started = harness.clock.now.timeIntervalSince1970
        try await harness.test { client in
            let old = try #require(try await client.get("/readyz").json()["policy_version"] as? String)
            var text = String(buffer: try await client.get("/metrics").body)
            #expect(prometheusSample(text, #"portcullis_policy_info{version="\#(old)"}"#) == 1)
            #expect(prometheusSample(text, "portcullis_policy_loaded_timestamp_seconds").map { abs($0 - started) < 0.01 } == true, "loaded at start")

            harness.clock.advance(600)
            try testPolicyYAML.replacingOccurrences(of: "  admin:\n", with: "  auditor:\n    allow: [\"audit/*:read\"]\n  admin:\n")
                .write(toFile: harness.configuration.policiesDirectory + "/test.yaml", atomically: true, encoding: .utf8)
            var new = old
            let deadline = ContinuousClock.now + .seconds(5)
            while new == old, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                new = try #require(try await client.get("/readyz").json()["policy_version"] as? String)
            }
            #expect(new != old, "the change was loaded")
            text = String(buffer: try await client.get("/metrics").body)
            #expect(prometheusSample(text, #"portcullis_policy_info{version="\#(new)"}"#) == 1)
            #expect(!text.contains(#"version="\#(old)""#), "only the version in force is exported")
            #expect(text.split(separator: "\n").filter { $0.hasPrefix("portcullis_policy_info{") }.count == 1)
            #expect(prometheusSample(text, "portcullis_policy_loaded_timestamp_seconds").map { abs($0 - (started + 600)) < 0.01 } == true, "reloaded later")
        }
    }
}
