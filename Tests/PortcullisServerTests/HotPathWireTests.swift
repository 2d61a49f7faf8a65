import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PortcullisCrypto
@testable import PortcullisServer
import Testing

/// What the hot path puts on the wire itself: its encoded answers against NIO's own encoder, and
/// the connection-lifetime rule that counts the answers written past that encoder.
@Suite struct HotPathWireTests {
    /// The bytes NIO's `HTTPResponseEncoder` writes for `response` with the fields the hot path adds.
    static func encodedByNIO(_ response: PlainResponse, requestID: String, date: String, server: String) throws -> ByteBuffer {
        let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        for header in response.headers { headers.add(name: header.name, value: header.value) }
        if !response.headers.contains(where: { $0.name == "Cache-Control" }) {
            headers.add(name: "Cache-Control", value: SecurityHeaders.defaultCacheControl)
        }
        for field in SecurityHeaders.fields { headers.add(name: field.name, value: field.value) }
        headers.add(name: "X-Request-Id", value: requestID)
        headers.add(name: "Date", value: date)
        headers.add(name: "Server", value: server)
        let status = HTTPResponseStatus(statusCode: Int(response.status.code), reasonPhrase: response.status.reasonPhrase)
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(response.body)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        var bytes = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        _ = try channel.finish()
        return bytes
    }

    @Test(arguments: [
        PlainResponse(body: ByteBuffer(string: #"{"active":true,"sub":"u"}"#)),
        PlainResponse(body: ByteBuffer()),
        PlainResponse.error("invalid_request", "the body is not one JSON object", status: .badRequest),
        PlainResponse(status: .serviceUnavailable, headers: [("Retry-After", "1")], body: ByteBuffer(string: "{}")),
        PlainResponse(contentType: "application/jwk-set+json", headers: [("Cache-Control", "public, max-age=300")],
                      body: ByteBuffer(string: #"{"keys":[]}"#)),
        PlainResponse(status: .init(code: 299, reasonPhrase: "Odd"), headers: [("WWW-Authenticate", #"Bearer error="invalid_token""#)],
                      body: ByteBuffer(string: "x")),
    ])
    func anEncodedAnswerIsTheBytesNIOsEncoderWritesForTheSameFields(response: PlainResponse) throws {
        let date = "Tue, 01 Dec 2026 17:00:00 GMT"
        let ours = response.http1(requestID: "0123456789abcdef", date: date, server: "Portcullis", allocator: ByteBufferAllocator())
        let nio = try Self.encodedByNIO(response, requestID: "0123456789abcdef", date: date, server: "Portcullis")
        #expect(String(buffer: ours) == String(buffer: nio))
    }

    @Test func newRequestIdsAreShortAcceptableAndDistinct() {
        let ids = (0..<1000).map { _ in RequestIdentifier.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.utf8.count == 15 && RequestIdentifier.acceptable($0.utf8) })
        // One process's ids share the random prefix (5 bytes: the first 6 characters, and 4 bits of
        // the 7th) and count up after it (other tests' servers in this process take ids meanwhile).
        #expect(Set(ids.map { $0.prefix(6) }).count == 1)
        let counters = ids.map { Base64URL.decode($0)!.suffix(6).reduce(0) { $0 << 8 | UInt64($1) } }
        #expect(zip(counters, counters.dropFirst()).allSatisfy { $1 > $0 })
    }

    @Test func aHotAnswerCountsAsAnEndedResponseForIdleAndGracefulClose() throws {
        let lifetime = ConnectionLifetimeHandler(idleTimeout: nil)
        let channel = EmbeddedChannel(handler: lifetime)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz")
        // Two requests read; a graceful shutdown begins while both are unanswered.
        for _ in 0..<2 {
            try channel.writeInbound(HTTPServerRequestPart.head(head))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive, "requests in progress: the connection waits for them")
        #expect(lifetime.responseEnded() == false, "one answer of two: keep the connection")
        #expect(lifetime.responseEnded() == true, "the last answer of a quiescing connection: close once written")
        _ = try? channel.finish()
    }

    @Test func aGracefulShutdownClosesAConnectionOnceItsHotAnswerIsWritten() async throws {
        let harness = try await Harness { $0.port = 0 }
        let hotPath = HotPath(services: harness.services, logger: Logger(label: "test"))
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let lifetime = ConnectionLifetimeHandler(idleTimeout: nil)
        try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
        try channel.pipeline.syncOperations.addHandler(lifetime)
        let wire = try channel.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        try channel.pipeline.syncOperations.addHandler(HotRouteHandler(routes: hotPath.routes, shared: hotPath.components, wire: wire, lifetime: lifetime))

        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz")))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive, "a request is being read: the connection waits for its answer")
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        var written = ByteBuffer()
        while var part = try channel.readOutbound(as: IOData.self).flatMap({ if case .byteBuffer(let b) = $0 { b } else { nil } }) {
            written.writeBuffer(&part)
        }
        #expect(String(buffer: written).hasPrefix("HTTP/1.1 200 OK\r\n") && String(buffer: written).hasSuffix(#"{"status":"ok"}"#))
        #expect(!channel.isActive, "answered, and shutting down: closed")
    }
}
