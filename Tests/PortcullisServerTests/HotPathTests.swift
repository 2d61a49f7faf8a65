#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PortcullisCore
@testable import PortcullisServer
import Testing

/// The hot path (`HotRouteHandler`) against the router: the same bytes for every hot route and
/// bad input, requests it must not take, order on a connection, and connection lifetime. Over
/// real sockets: the hot path sits in the channel pipeline, which `.router` tests skip.
@Suite struct HotPathTests {
    /// Requests to each hot route (and a few beside them), good and bad, as raw HTTP/1.1.
    static func requests(token: String, foreignAudience: String, checker: String, refresh: String, secret: String) -> [String] {
        func post(_ path: String, _ body: String, headers: String = "", type: String = "application/json") -> String {
            "POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Type: \(type)\r\n\(headers)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        func introspect(_ body: String, basic: String? = "app:\(secret)", type: String = "application/x-www-form-urlencoded") -> String {
            post("/oauth2/introspect", body, headers: basic.map { "Authorization: Basic \(Data($0.utf8).base64EncodedString())\r\n" } ?? "", type: type)
        }
        let verify = "/v1/token/verify"
        let authorize = "/v1/authorize"
        return [
            "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /healthz?probe=1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: caller-id.1\r\n\r\n",
            "GET /.well-known/jwks.json HTTP/1.1\r\nHost: t\r\n\r\n",
            post(verify, #"{"token":"\#(token)"}"#),
            post(verify, #"{"token":"\#(token)","audience":"\#(foreignAudience)"}"#),
            post(verify, #"{"token":"not.a.token"}"#),
            post(verify, #"{"token":"\#(String(repeating: "a", count: 17_000))"}"#),
            post(verify, #"{"token":"\#(token)","token":"x"}"#),
            post(verify, #"{"token":1}"#),
            post(verify, #"{"audience":"x"}"#),
            post(verify, #"["token"]"#),
            post(verify, #"{"token":"x"} trailing"#),
            post(verify, ""),
            post(verify, #"{"token":"\ud800"}"#),
            post(authorize, #"{"token":"\#(token)","action":"write","resource":"documents/plan"}"#),
            post(authorize, #"{"token":"\#(token)","action":"read","resource":"documents/secret/x"}"#),
            post(authorize, #"{"token":"\#(token)","action":"read","resource":"documents/../secret"}"#),
            post(authorize, #"{"token":"\#(token)","action":"read","resource":"documents/a","audience":"\#(foreignAudience)"}"#),
            post(authorize, #"{"token":"garbage","action":"read","resource":"documents/a"}"#),
            post(authorize, #"{"token":"\#(token)","resource":"documents/a"}"#),
            post(authorize, #"{"token":"\#(token)","subject":"alice","action":"read","resource":"documents/a"}"#),
            post(authorize, #"{"action":"read","resource":"documents/a"}"#),
            post(authorize, #"{"token":"\#(token)","action":"read","resource":"documents/a"}"#, headers: "Authorization: Bearer\r\n"),
            // The subject form: the hot path hands it to the router.
            post(authorize, #"{"subject":"alice","action":"read","resource":"documents/a"}"#, headers: "Authorization: Bearer \(checker)\r\n"),
            introspect("token=\(token)"),
            introspect("token=not.a.token"),
            introspect("token=\(token)", basic: "app:wrong-secret"),
            introspect("token=\(token)", basic: nil),
            introspect("token=\(token)&client_id=app&client_secret=\(secret)", basic: nil),
            introspect(""),
            introspect("token=\(token)", type: "application/json"),
            // A refresh token is looked up by hash: the router's.
            introspect("token=\(refresh)"),
            // Not hot routes: the router's, unchanged.
            "GET /healthz/extra HTTP/1.1\r\nHost: t\r\n\r\n",
            "DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
            // Readiness asks the database at every probe: waited for, by the hot path itself.
            "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n",
        ]
    }

    /// Everything but what differs per response by design (`Date`, a new `X-Request-Id`).
    static func comparable(_ response: RawResponse) -> String {
        let headers = response.headers.filter { name, value in
            name.lowercased() != "date" && !(name.lowercased() == "x-request-id" && value != "caller-id.1")
        }.map { "\($0.name.lowercased()): \($0.value)" }.sorted()
        return ([response.statusLine] + headers + [String(decoding: response.body, as: UTF8.self)]).joined(separator: "\n")
    }

    @Test func everyHotRouteAnswersTheSameBytesOnBothPaths() async throws {
        let harness = try await Harness { $0.port = 0 }
        try await harness.addUser(roles: ["editor"])
        try await harness.addUser("checker", roles: ["authz-checker"])
        let secret = try #require(try await harness.addClient("app"))
        let (token, refresh, checker) = try await harness.test { client in
            let login = try await client.login()
            return (try #require(login["access_token"] as? String), try #require(login["refresh_token"] as? String),
                    try #require(try await client.login("checker")["access_token"] as? String))
        }
        let requests = Self.requests(token: token, foreignAudience: "https://elsewhere.example", checker: checker,
                                     refresh: refresh, secret: secret)
        let hot = try await harness.live(hotPath: true) { port in var responses: [RawResponse] = []
            for request in requests { responses.append(try await RawConnection(port: port).exchange(request)[0]) }
            return responses }
        let counts = harness.hotPathCounts()
        let routed = try await harness.live(hotPath: false) { port in var responses: [RawResponse] = []
            for request in requests { responses.append(try await RawConnection(port: port).exchange(request)[0]) }
            return responses }
        #expect(harness.hotPathCounts() == counts, "the router-only server never counts hot-path requests")

        for (index, request) in requests.enumerated() {
            #expect(Self.comparable(hot[index]) == Self.comparable(routed[index]), "request \(index): \(request.prefix(80))")
            let id = hot[index].headers.first { $0.name.lowercased() == "x-request-id" }?.value
            #expect(id.map { RequestIdentifier.acceptable($0.utf8) } == true, "every response carries an id")
        }
        #expect(hot[1].headers.contains { $0.name == "X-Request-Id" && $0.value == "caller-id.1" }, "a sane caller id is echoed")
        #expect(hot[3].statusLine == "HTTP/1.1 200 OK" && String(decoding: hot[3].body, as: UTF8.self).contains(#""active":true"#))
        #expect(hot[14].statusLine == "HTTP/1.1 200 OK" && String(decoding: hot[14].body, as: UTF8.self).contains(#""allowed":true"#))
        #expect(hot[8].statusLine.hasPrefix("HTTP/1.1 400"), "duplicate keys are refused")
        #expect(hot[22].statusLine.hasPrefix("HTTP/1.1 401"), "a malformed bearer header is refused on the token form too")
        #expect(String(decoding: hot[24].body, as: UTF8.self).contains(#""active":true"#), "introspection of a live access token")
        #expect(hot[26].statusLine.hasPrefix("HTTP/1.1 401"), "a wrong client secret")
        // Every request to a hot route was answered on the event loop but those that must wait: the
        // subject form, the client failures (counted and audited), the refresh token, readiness.
        #expect(counts.answered == 28, "\(counts)")
        #expect(counts.waited == 5, "\(counts)")
        #expect(String(decoding: hot.last!.body, as: UTF8.self).contains(#""status":"ready""#))
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let harness = try await Harness { $0.port = 0 }
        try await harness.addUser(roles: ["editor"])
        try await harness.live(hotPath: true) { port in
            let login = #"{"username":"alice","password":"correct horse"}"#
            // A router request (Argon2 on another thread) with two hot requests behind it, in one write.
            let batch = "POST /v1/login HTTP/1.1\r\nHost: t\r\nContent-Length: \(login.utf8.count)\r\n\r\n\(login)"
                + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                + "POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nContent-Length: 14\r\n\r\n{\"token\":\"no\"}"
            let connection = try RawConnection(port: port)
            let responses = try await connection.exchange(batch, responses: 3)
            #expect(String(decoding: responses[0].body, as: UTF8.self).contains("access_token"), "the login first")
            #expect(String(decoding: responses[1].body, as: UTF8.self) == #"{"status":"ok"}"#)
            #expect(String(decoding: responses[2].body, as: UTF8.self) == #"{"active":false}"#)
            // Behind a pending router request, hot requests go to the router too (order kept); on their own, hot again.
            #expect(try await connection.exchange("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0].statusLine == "HTTP/1.1 200 OK")
        }
        #expect(harness.hotPathCounts().answered == 1, "only the last request, alone on the connection, was hot")
    }

    @Test func requestsPipelinedBehindAWaitedAnswerAreTakenInOrder() async throws {
        let harness = try await Harness { $0.port = 0 }
        try await harness.addUser(roles: ["editor"])
        try await harness.addUser("checker", roles: ["authz-checker"])
        let checker = try await harness.test { client in try #require(try await client.login("checker")["access_token"] as? String) }
        try await harness.live(hotPath: true) { port in
            let question = #"{"subject":"alice","action":"read","resource":"documents/a"}"#
            let login = #"{"username":"alice","password":"correct horse"}"#
            // The subject form waits for the store; the hot requests behind it must not overtake it,
            // nor the router's request behind them.
            let batch = "POST /v1/authorize HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(checker)\r\n"
                + "Content-Length: \(question.utf8.count)\r\n\r\n\(question)"
                + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                + "POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nContent-Length: 14\r\n\r\n{\"token\":\"no\"}"
                + "POST /v1/login HTTP/1.1\r\nHost: t\r\nContent-Length: \(login.utf8.count)\r\n\r\n\(login)"
                + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
            let connection = try RawConnection(port: port)
            let responses = try await connection.exchange(batch, responses: 5)
            #expect(String(decoding: responses[0].body, as: UTF8.self).contains(#""allowed":true"#), "the waited answer first")
            #expect(String(decoding: responses[1].body, as: UTF8.self) == #"{"status":"ok"}"#)
            #expect(String(decoding: responses[2].body, as: UTF8.self) == #"{"active":false}"#)
            #expect(String(decoding: responses[3].body, as: UTF8.self).contains("access_token"), "the router's request in its place")
            #expect(String(decoding: responses[4].body, as: UTF8.self) == #"{"status":"ok"}"#)
            #expect(try await connection.exchange("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0].statusLine == "HTTP/1.1 200 OK",
                    "the connection reads again after the held requests")
        }
        let counts = harness.hotPathCounts()
        #expect(counts.waited == 1, "\(counts)")
        #expect(counts.answered == 3, "the two held hot requests and the last one; the one behind the login went to the router: \(counts)")
    }

    @Test func requestsTheHotPathDoesNotTakeGoToTheRouter() async throws {
        let harness = try await Harness { $0.port = 0 }
        try await harness.live(hotPath: true) { port in
            let chunked = try await RawConnection(port: port).exchange(
                "POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\ne\r\n{\"token\":\"no\"}\r\n0\r\n\r\n")
            #expect(chunked[0].statusLine == "HTTP/1.1 200 OK")
            #expect(String(decoding: chunked[0].body, as: UTF8.self) == #"{"active":false}"#)
            let big = "{\"token\":\"\(String(repeating: "a", count: 70_000))\"}"
            let tooLarge = try await RawConnection(port: port).exchange("POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nContent-Length: \(big.utf8.count)\r\n\r\n\(big)")
            #expect(tooLarge[0].statusLine == "HTTP/1.1 413 Payload Too Large" || tooLarge[0].statusLine.hasPrefix("HTTP/1.1 413"), "\(tooLarge[0].statusLine)")
            let closing = try RawConnection(port: port)
            let once = try await closing.exchange("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(once[0].statusLine == "HTTP/1.1 200 OK")
            #expect(await closing.isClosedByPeer(within: .seconds(2)), "Connection: close is honoured")
        }
        #expect(harness.hotPathCounts().answered == 0, "none of these is the hot path's")
    }

    /// A hot route's requests count in the route's one series whichever path answered them, each
    /// under its status, and a hot route nobody asked for exports its successes at zero.
    @Test func aHotRoutesRequestsCountInOneSeriesOnBothPaths() async throws {
        let harness = try await Harness { $0.port = 0 }
        try await harness.live(hotPath: true) { port in
            let connection = try RawConnection(port: port)
            let verify = "POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nContent-Length: 14\r\n\r\n{\"token\":\"no\"}"
            #expect(try await connection.exchange(verify + verify, responses: 2).map(\.statusLine) == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
            #expect(try await connection.exchange("POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n[]")[0]
                .statusLine.hasPrefix("HTTP/1.1 400"))
            let chunked = try await RawConnection(port: port).exchange(
                "POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\ne\r\n{\"token\":\"no\"}\r\n0\r\n\r\n")
            #expect(chunked[0].statusLine == "HTTP/1.1 200 OK", "the router's answer")
        }
        let text = String(decoding: harness.services.metricsRegistry.emitToBuffer(), as: UTF8.self)
        func sample(_ series: String) -> Double? { prometheusSample(text, series) }
        #expect(harness.hotPathCounts().answered == 3, "two answers and the error on the hot path, the chunked one on the router's")
        #expect(sample(#"portcullis_http_requests_total{method="POST",route="/v1/token/verify",status="200"}"#) == 3)
        #expect(sample(#"portcullis_http_requests_total{method="POST",route="/v1/token/verify",status="400"}"#) == 1)
        #expect(sample(#"portcullis_http_request_duration_seconds_count{method="POST",route="/v1/token/verify"}"#) == 4)
        #expect(sample(#"portcullis_http_requests_total{method="POST",route="/v1/authorize",status="200"}"#) == 0)
        #expect(!text.contains(#"route="/v1/authorize",status="4"#), "another status is exported from its first request on")
    }

    @Test func idleConnectionsCloseAndBusyOnesStayOpen() async throws {
        let harness = try await Harness {
            $0.port = 0
            $0.idleTimeout = 2
        }
        try await harness.live(hotPath: true) { port in
            let busy = try RawConnection(port: port)
            let started = ContinuousClock.now
            // Hot requests (which the router never sees) for longer than the timeout, never 2 s apart.
            while ContinuousClock.now - started < .seconds(3) {
                #expect(try await busy.exchange("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0].statusLine == "HTTP/1.1 200 OK")
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(await !busy.isClosedByPeer(within: .milliseconds(10)), "3 s of hot requests: never idle for 2 s")
            #expect(await busy.isClosedByPeer(within: .seconds(5)), "idle past the timeout: closed")
        }
    }

    @Test func theHotPathSharesTheRoutersCapOnRequestsInFlight() async throws {
        let harness = try await Harness {
            $0.port = 0
            $0.maxConcurrentRequests = 1
        }
        try await harness.live(hotPath: true) { port in
            // A router request whose body is still coming holds the one slot.
            let body = #"{"username":"alice","password":"correct horse"}"#
            let slow = try RawConnection(port: port)
            try await slow.send("POST /v1/login HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body.prefix(10))")
            // Until the router has taken the slot (a fixed pause lost that race on a loaded machine).
            var refused = try await RawConnection(port: port).exchange("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0]
            let deadline = ContinuousClock.now + .seconds(10)
            while !refused.statusLine.hasPrefix("HTTP/1.1 503"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                refused = try await RawConnection(port: port).exchange("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0]
            }
            #expect(refused.statusLine.hasPrefix("HTTP/1.1 503"), "\(refused.statusLine)")
            #expect(refused.headers.contains { $0.name == "Retry-After" && $0.value == "1" })
            // The slow request ends; the slot is free again.
            let finished = try await slow.exchange(String(body.dropFirst(10)))[0]
            #expect(finished.statusLine.hasPrefix("HTTP/1.1 401"), "no such user: \(finished.statusLine)")
            #expect(try await RawConnection(port: port).exchange("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")[0].statusLine == "HTTP/1.1 200 OK")
        }
    }

    @Test func aRevocationIsSeenByTheNextHotVerify() async throws {
        let harness = try await Harness { $0.port = 0 }
        try await harness.addUser(roles: ["editor"])
        let token = try await harness.test { client in try #require(try await client.login()["access_token"] as? String) }
        let verify = "POST /v1/token/verify HTTP/1.1\r\nHost: t\r\nContent-Length: \(token.utf8.count + 12)\r\n\r\n{\"token\":\"\(token)\"}"
        try await harness.live(hotPath: true) { port in
            let connection = try RawConnection(port: port)
            #expect(String(decoding: try await connection.exchange(verify)[0].body, as: UTF8.self).contains(#""active":true"#))
            try await harness.admin.setDisabled("alice", disabled: true)
            #expect(String(decoding: try await connection.exchange(verify)[0].body, as: UTF8.self) == #"{"active":false}"#)
        }
        #expect(harness.hotPathCounts().answered == 2)
    }
}

extension Harness {
    /// Runs `body` against a live server (real sockets) on this harness's services.
    func live<Value: Sendable>(hotPath: Bool, _ body: @Sendable (Int) async throws -> Value) async throws -> Value {
        try await buildApplication(services, logger: Logger(label: "test"), hotPath: hotPath).test(.live) { client in
            try await body(try #require(client.port))
        }
    }

    /// `portcullis_hot_path_requests_total` so far.
    func hotPathCounts() -> (answered: Int, waited: Int) {
        let text = String(decoding: services.metricsRegistry.emitToBuffer(), as: UTF8.self)
        func count(_ outcome: String) -> Int {
            Int(prometheusSample(text, #"portcullis_hot_path_requests_total{outcome="\#(outcome)"}"#) ?? 0)
        }
        return (count("answered"), count("waited"))
    }
}

/// What went wrong on a raw connection.
struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One response off the wire.
struct RawResponse {
    let statusLine: String
    let headers: [(name: String, value: String)]
    let body: [UInt8]
}

/// A blocking HTTP/1.1 client over one TCP connection: writes bytes as given (so pipelining and
/// odd framings can be sent) and reads responses framed by `Content-Length`.
final class RawConnection: @unchecked Sendable {
    private let socket: Int32
    private var buffered: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawConnectionError("connect failed: \(errno)") }
    }

    deinit { close(socket) }

    /// Sends `request` (one or several, pipelined) and reads `responses` responses, blocking a
    /// Dispatch thread, not one of Swift concurrency's few (the server's router path needs them).
    func exchange(_ request: String, responses: Int = 1) async throws -> [RawResponse] {
        try await offThePool { try self.exchangeBlocking(request, responses: responses) }
    }

    /// Sends bytes without reading an answer (a request sent in parts).
    func send(_ bytes: String) async throws {
        _ = try await exchange(bytes, responses: 0)
    }

    /// True when the server closes the connection within `wait`.
    func isClosedByPeer(within wait: Duration) async -> Bool {
        (try? await offThePool { self.isClosedByPeerBlocking(within: wait) }) ?? false
    }

    private func offThePool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    private func exchangeBlocking(_ request: String, responses: Int) throws -> [RawResponse] {
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw RawConnectionError("send failed: \(errno)") }
            sent += count
        }
        return try (0..<responses).map { _ in try readResponse() }
    }

    private func isClosedByPeerBlocking(within wait: Duration) -> Bool {
        var timeout = timeval(tv_sec: Int(wait.components.seconds), tv_usec: Int(wait.components.attoseconds / 1_000_000_000_000))
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, 0) == 0
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw RawConnectionError("connection closed or timed out reading a response") }
        buffered += chunk[..<count]
    }

    private func readResponse() throws -> RawResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        var end: Int?
        while end == nil {
            end = buffered.indices.dropLast(3).first { buffered[$0..<$0 + 4].elementsEqual(separator) }
            if end == nil { try fill() }
        }
        let head = String(decoding: buffered[..<end!], as: UTF8.self).components(separatedBy: "\r\n")
        let headers = head.dropFirst().map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        while buffered.count < end! + 4 + length { try fill() }
        let body = Array(buffered[(end! + 4)..<(end! + 4 + length)])
        buffered.removeFirst(end! + 4 + length)
        return RawResponse(statusLine: head[0], headers: headers, body: body)
    }
}

@Suite struct IntrospectionAnswerTests {
    /// Written in sorted key order, as `JSONEncoder` with sorted keys writes them, for members
    /// given as a dictionary (a refresh token's) and for an access token's, built in order.
    @Test func membersAreWrittenInSortedKeyOrder() throws {
        var members: [String: IntrospectionValue] = [
            "active": .bool(true), "aud": .strings(["a", "b"]), "client_id": .string("app"), "exp": .int(20), "iat": .int(10),
            "iss": .string("https://id.example"), "jti": .string("j"), "nbf": .int(10), "roles": .strings(["viewer"]),
            "scope": .string("openid"), "sid": .string("s"), "sub": .string("u1"), "token_type": .string("Bearer"), "username": .string("alice"),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func written(_ members: [String: IntrospectionValue]?) -> String {
            String(buffer: HotAnswers.introspectionAnswer(members.map(IntrospectionMembers.init)).body)
        }
        #expect(written(members) == String(decoding: try encoder.encode(members), as: UTF8.self))
        members["username"] = nil
        members["zz_extra"] = .string("x")
        members["aa_extra"] = .bool(false)
        #expect(written(members) == String(decoding: try encoder.encode(members), as: UTF8.self), "unknown names: sorted")
        #expect(written(nil) == #"{"active":false}"#)
    }
}
