import HTTPTypes
import NIOCore

extension PlainResponse {
    /// The whole HTTP/1.1 response as the hot path writes it, in one buffer: the status line, the
    /// route's fields and the ones every response gets, the blank line, the body. The bytes are
    /// NIO's `HTTPResponseEncoder`'s for the same fields in the same order (without its
    /// `HTTPHeaders`, response head and three pipeline writes per answer).
    ///
    /// Fields, in order: `Content-Type`, `Content-Length`, the route's own, `Cache-Control` when
    /// the route set none, `SecurityHeaders.fields`, `X-Request-Id`, `Date`, `Server`.
    func http1(requestID: String, date: String, server: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 320 + body.readableBytes)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        buffer.writeField("Content-Type", contentType)
        buffer.writeField("Content-Length", String(body.readableBytes))
        var cacheControl = false
        for header in headers {
            buffer.writeField(header.name, header.value)
            if header.name == "Cache-Control" { cacheControl = true }
        }
        if !cacheControl { buffer.writeBytes(Self.defaultCacheControlLine) }
        buffer.writeBytes(Self.securityFieldLines)
        buffer.writeField(RequestIdentifier.header, requestID)
        buffer.writeField("Date", date)
        buffer.writeField("Server", server)
        buffer.writeStaticString("\r\n")
        buffer.writeImmutableBuffer(body)
        return buffer
    }

    // The lines that never change, encoded once and copied in one write each (a field took four).
    private static let defaultCacheControlLine = fieldLines([("Cache-Control", SecurityHeaders.defaultCacheControl)])
    private static let securityFieldLines = fieldLines(SecurityHeaders.fields)

    private static func fieldLines(_ fields: [(name: String, value: String)]) -> [UInt8] {
        var buffer = ByteBuffer()
        for field in fields { buffer.writeField(field.name, field.value) }
        return Array(buffer.readableBytesView)
    }
}

extension ByteBuffer {
    /// `name: value` and its line end.
    fileprivate mutating func writeField(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}
