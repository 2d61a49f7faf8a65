import Hummingbird

/// Writes one flat JSON object straight into a buffer, for the hottest answers
/// (`/v1/token/verify`, `/v1/authorize`), where Foundation's `JSONEncoder` cost more than the
/// signature check. Strings are escaped per RFC 8259: quote, backslash and every control character.
struct JSONObjectWriter {
    private(set) var buffer: ByteBuffer
    private var empty = true

    init(capacity: Int = 512) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
        buffer.writeInteger(UInt8(ascii: "{"))
    }

    private mutating func key(_ name: StaticString) {
        if !empty { buffer.writeInteger(UInt8(ascii: ",")) }
        empty = false
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
    }

    mutating func add(_ name: StaticString, _ value: Bool) {
        key(name)
        buffer.writeStaticString(value ? "true" : "false")
    }

    mutating func add(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        key(name)
        buffer.writeString(String(value))
    }

    mutating func add(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        writeString(value)
    }

    mutating func add(_ name: StaticString, _ values: [String]?) {
        guard let values else { return }
        key(name)
        buffer.writeInteger(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            writeString(value)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func writeString(_ value: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        // Most strings (ids, roles, URLs) need no escaping: copy them whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            buffer.writeString(value)
            buffer.writeInteger(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0..<0x20:
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(Self.hex[Int(byte >> 4)])
                buffer.writeInteger(Self.hex[Int(byte & 0x0F)])
            default: buffer.writeInteger(byte)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// The finished object's bytes.
    consuming func finish() -> ByteBuffer {
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    /// The finished object as a 200 (or `status`) JSON response.
    consuming func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: finish()))
    }
}
