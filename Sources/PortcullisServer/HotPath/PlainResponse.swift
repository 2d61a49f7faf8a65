package import Hummingbird
import HTTPTypes
package import NIOCore
package import PortcullisCore
import PortcullisCrypto
import Synchronization

/// A response as a route makes it, before the headers every response gets: both paths write it,
/// the hot path straight to NIO (`HotRouteHandler`), the router through Hummingbird (`response`).
package struct PlainResponse: Sendable {
    /// The status.
    package var status: HTTPResponse.Status
    /// The body's media type.
    package var contentType: String
    /// The route's own headers (`Cache-Control` among them when it is not `no-store`), in order.
    package var headers: [(name: String, value: String)]
    /// The body.
    package var body: ByteBuffer

    /// A response of `status` with a body of `contentType`.
    package init(status: HTTPResponse.Status = .ok, contentType: String = "application/json; charset=utf-8",
                 headers: [(name: String, value: String)] = [], body: ByteBuffer) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    /// The same response for Hummingbird (the router path; its middleware adds the shared headers).
    package var response: Response {
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count + 1)
        fields[.contentType] = contentType
        for header in headers { fields.append(HTTPField(name: HTTPField.Name(header.name)!, value: header.value)) }
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    /// The one JSON error shape, `{"error": CODE, "error_description": TEXT}` (`no-store` comes with
    /// every response that sets no other cache policy).
    package static func error(_ code: String, _ description: String, status: HTTPResponse.Status,
                              headers: [(name: String, value: String)] = []) -> PlainResponse {
        var writer = JSONObjectWriter(capacity: 64 + description.utf8.count)
        writer.add("error", code)
        writer.add("error_description", description)
        return PlainResponse(status: status, headers: headers, body: writer.finish())
    }
}

extension PortcullisError {
    /// This error as the one JSON error shape, with `Retry-After` when throttled or unavailable and
    /// a `Bearer` challenge for token errors: what both paths answer for it.
    package var plainResponse: PlainResponse {
        var headers: [(name: String, value: String)] = []
        switch self {
        case .throttled(let seconds): headers.append(("Retry-After", String(seconds)))
        case .unavailable: headers.append(("Retry-After", "1"))
        case .invalidToken, .invalidCredentials, .refreshTokenReused, .invalidGrant: headers.append(("WWW-Authenticate", "Bearer"))
        default: break
        }
        return PlainResponse.error(code, description, status: status, headers: headers)
    }
}

/// The headers every response carries, added by `SecurityHeadersMiddleware` on the router path and
/// by `HotRouteHandler` on the hot path: no caching of tokens unless a route says otherwise, no
/// sniffing, no framing, no referrer.
package enum SecurityHeaders {
    /// The cache policy of a response that sets none.
    package static let defaultCacheControl = "no-store"
    /// Added to every response, in this order.
    package static let fields: [(name: String, value: String)] = [
        ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
    ]
}

/// `X-Request-Id`: the caller's when it sent a sane one, else a new one (both paths).
package enum RequestIdentifier {
    /// The header's name.
    package static let header = "X-Request-Id"

    /// The caller's id when it is 1–128 characters of `[A-Za-z0-9._:-]`, else nil.
    package static func acceptable<Bytes: Collection<UInt8>>(_ value: Bytes?) -> Bool {
        guard let value, (1...128).contains(value.count) else { return false }
        return value.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x2E || byte == 0x5F || byte == 0x3A || byte == 0x2D
        }
    }

    /// The caller's id, or a new one.
    package static func echoedOrNew(_ value: String?) -> String {
        if let value, acceptable(value.utf8) { return value }
        return next()
    }

    /// A new id: 15 characters (short enough to live inside the `String`, no allocation), unique in
    /// this process and, by a random prefix, across processes. Ids name requests in logs; they are
    /// not secrets, so a counter is enough (no random bytes per request).
    package static func next() -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 11) { bytes in
            // The random prefix, then the counter's low 6 bytes.
            for index in 0..<5 { bytes[index] = prefix[index] }
            for index in 0..<6 { bytes[5 + index] = UInt8(truncatingIfNeeded: count >> (8 * (5 - index))) }
            return Base64URL.encode(UnsafeBufferPointer(bytes))
        }
    }

    /// 40 random bits, made once per process.
    private static let prefix: [UInt8] = (0..<5).map { _ in UInt8.random(in: 0...255) }
    private static let counter = Atomic<UInt64>(0)
}

/// The global cap on requests in flight, one counter for both paths (`LoadSheddingMiddleware`
/// and `HotRouteHandler`): past it, 503 with `Retry-After: 1` straight away.
package final class InFlightRequests: Sendable {
    /// Most requests at once.
    package let limit: Int
    private let count = Atomic<Int>(0)

    /// A cap of `limit`.
    package init(limit: Int) {
        self.limit = limit
    }

    /// Counts one more request in flight; false (and nothing counted) when the cap is reached.
    package func enter() -> Bool {
        guard count.add(1, ordering: .relaxed).newValue <= limit else {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// One request in flight ended.
    package func leave() {
        count.subtract(1, ordering: .relaxed)
    }

    /// The answer past the cap (or past a request's time limit).
    package static func unavailable(_ description: String) -> PlainResponse {
        PlainResponse.error("temporarily_unavailable", description, status: .serviceUnavailable, headers: [("Retry-After", "1")])
    }

    /// What a request refused at the cap is told.
    package static let atCapacity = "the server is at capacity; retry shortly"

    /// What a request past its time limit is told.
    package static let tooLong = "the request took too long"
}
