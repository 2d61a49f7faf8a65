import Foundation
import Hummingbird
import HummingbirdTesting
import PortcullisCore
import PortcullisServer
import Testing

@Suite struct MetricsTests {
    /// The value of one sample line `name{labels} value` in Prometheus text, or nil.
    func sample(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

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
            #expect(sample(text, #"portcullis_events_total{event="login.success"}"#) == 1)
            #expect(sample(text, #"portcullis_events_total{event="login.failure"}"#) == 1)
            #expect(sample(text, #"portcullis_tokens_issued_total{grant="password"}"#) == 1)
            #expect(sample(text, #"portcullis_policy_decisions_total{result="allow"}"#) == 1)
            #expect(sample(text, #"portcullis_policy_decisions_total{result="deny"}"#) == 2)
            #expect(sample(text, #"portcullis_http_requests_total{method="POST",route="/v1/authorize",status="200"}"#) == 3)
            #expect(sample(text, #"portcullis_http_requests_total{method="POST",route="/v1/login",status="401"}"#) == 1)
            #expect(text.contains(#"portcullis_http_request_duration_seconds_bucket{method="POST",route="/v1/login""#))
            #expect(sample(text, "portcullis_argon2_wait_seconds_count").map { $0 >= 2 } == true, "two logins hashed (at least)")
            #expect(sample(text, "portcullis_argon2_queue_depth") == 0)
        }
    }
}
