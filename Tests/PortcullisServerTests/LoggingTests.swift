import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PortcullisCore
@testable import PortcullisServer
import Synchronization
import Testing

/// Collects every log line with its metadata, as text.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "captured") { _ in CapturingHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

struct CapturingHandler: LogHandler {
    let sink: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // Rendered exactly as the server writes it (text format), so the greps below see production lines.
        let line = PortcullisLogHandler.line(format: .text, time: PortcullisLogHandler.now(), level: event.level, label: "captured",
                                             message: event.message.description, metadata: PortcullisLogHandler.merged(metadata, event))
        sink.lines.withLock { $0.append(String(buffer: line).trimmingCharacters(in: .newlines)) }
    }
}

@Suite struct LoggingTests {
    @Test func everyRequestLogsOneLineWithARequestIdAndNoSecretEverReachesTheLog() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let clientSecret = try #require(try await harness.addClient(firstParty: true))
        let log = CapturedLog()
        let secrets = try await harness.test(logger: log.logger) { client -> [String] in
            var seen: [String] = ["correct horse", clientSecret]
            let tokens = try await client.login("alice", "correct horse")
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            seen += [access, refresh]
            let rotated = try await client.post("/v1/token/refresh", json: ["refresh_token": refresh]).json()
            seen.append(try #require(rotated["refresh_token"] as? String))
            _ = try await client.post("/v1/login", json: ["username": "alice", "password": "wrong but secret guess"])
            seen.append("wrong but secret guess")
            let enrolment = try await client.post("/v1/me/mfa/totp", json: [:], bearer: access).json()
            seen.append(try #require(enrolment["secret"] as? String))

            let browser = Browser(client)
            let pkce = PKCE()
            let code = try await browser.authorize(standardRequest(pkce: pkce))
            seen += [code, pkce.verifier]
            seen += browser.cookies.values
            let oauth = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI,
                                                "code_verifier": pkce.verifier], secret: clientSecret).json()
            seen += ["access_token", "refresh_token", "id_token"].compactMap { oauth[$0] as? String }

            let tagged = try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-Id")!: "trace-42"], body: nil)
            #expect(tagged.headers[.init("X-Request-Id")!] == "trace-42")
            let invented = try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-Id")!: "bad id with spaces"], body: nil)
            #expect(invented.headers[.init("X-Request-Id")!].map { $0 != "bad id with spaces" && $0.count == 15 && RequestIdentifier.acceptable($0.utf8) } == true)
            #expect(try await client.get("/no/such/route").headers[.init("X-Request-Id")!] != nil)
            return seen
        }
        let text = log.text
        let requests = log.lines.withLock { $0.filter { $0.contains(" request ") } }
        #expect(requests.count == 10, "\(requests.joined(separator: "\n"))")
        #expect(requests.allSatisfy { $0.contains("request_id=") && $0.contains("status=") && $0.contains("latency_ms=") && $0.contains("path=/") })
        #expect(text.contains("request_id=trace-42"))
        #expect(text.contains("path=/oauth2/authorize "))
        for secret in secrets {
            #expect(!text.contains(secret), "a secret reached the log: \(secret.prefix(12))…")
        }
        #expect(!text.contains("code_challenge") && !text.contains("state="), "query strings are never logged")
    }
}
