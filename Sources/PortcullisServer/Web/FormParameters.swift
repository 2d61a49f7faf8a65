import Foundation
import Hummingbird
package import PortcullisCore
import PortcullisCrypto

/// `application/x-www-form-urlencoded` parameters (bodies and query strings).
///
/// A repeated parameter is an error (RFC 6749 section 3.1: parameters must not be included more than once).
package struct FormParameters: Sendable {
    /// Parameters that may repeat (RFC 8707 section 2: one `resource` per target).
    static let repeatable: Set<String> = ["resource"]

    /// No parameters.
    static let empty = FormParameters(values: [:], repeated: [:])

    package let values: [String: String]
    /// The values of each repeatable parameter, in order.
    let repeated: [String: [String]]

    /// Parses `text`; throws `invalid_request` for a repeated name (other than `resource`) or bad percent-encoding.
    private init(values: [String: String], repeated: [String: [String]]) {
        self.values = values
        self.repeated = repeated
    }

    package init(parsing text: String) throws(OAuthError) {
        var text = text
        self = try text.withUTF8 { bytes in Result { () throws(OAuthError) in try FormParameters(parsing: bytes) } }.get()
    }

    /// Parses the bytes of a form. Byte-wise over contiguous memory: splitting a `String`'s UTF-8
    /// view through the generic `split` cost a twentieth of an introspection.
    package init(parsing bytes: UnsafeBufferPointer<UInt8>) throws(OAuthError) {
        var values: [String: String] = [:]
        var repeated: [String: [String]] = [:]
        var start = 0
        while start <= bytes.count {
            let end = Self.firstIndex(of: UInt8(ascii: "&"), in: bytes, from: start) ?? bytes.count
            defer { start = end + 1 }
            guard end > start else { continue }
            let pair = UnsafeBufferPointer(rebasing: bytes[start..<end])
            let equals = Self.firstIndex(of: UInt8(ascii: "="), in: pair)
            guard let name = Self.decode(UnsafeBufferPointer(rebasing: pair[..<(equals ?? pair.count)])),
                  let value = equals.map({ Self.decode(UnsafeBufferPointer(rebasing: pair[($0 + 1)...])) }) ?? "" else {
                throw OAuthError(.invalidRequest, "malformed form encoding")
            }
            if Self.repeatable.contains(name) {
                guard !value.isEmpty else { continue }
                guard (repeated[name]?.count ?? 0) < 16 else { throw OAuthError(.invalidRequest, "too many \(name) parameters") }
                repeated[name, default: []].append(value)
                continue
            }
            guard values[name] == nil else { throw OAuthError(.invalidRequest, "parameter \(name) is repeated") }
            // Empty values count as absent (RFC 6749 section 3.1).
            if !value.isEmpty { values[name] = value }
        }
        self.values = values
        self.repeated = repeated
    }

    subscript(name: String) -> String? { values[name] }

    /// The `resource` values (RFC 8707), without duplicates.
    var resources: [String] {
        var seen = Set<String>()
        return (repeated["resource"] ?? []).filter { seen.insert($0).inserted }
    }

    static func decode(_ text: Substring) -> String? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    /// `+` as a space and `%XX` as its byte (application/x-www-form-urlencoded); nil for a broken
    /// escape or bytes that are not UTF-8 — what Foundation's `removingPercentEncoding` answers
    /// after `+` is replaced, in one pass over the bytes (that pair cost ~60 µs on a token). Bytes
    /// with neither escape (a token, an id) become the string directly.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> String? {
        guard firstIndex(of: UInt8(ascii: "+"), in: text) != nil || firstIndex(of: UInt8(ascii: "%"), in: text) != nil else {
            return String(validating: text, as: UTF8.self)
        }
        // Raw bytes that are not UTF-8 stay refused even where an escape would complete them (a
        // body is read as bytes). Only raw bytes past ASCII can be invalid, so only then is the
        // part validated on its own; a query string is a String and always passes.
        if text.contains(where: { $0 >= 0x80 }), String(validating: text, as: UTF8.self) == nil { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Hex.digitValue), let low = iterator.next().flatMap(Hex.digitValue) else { return nil }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The first `byte` in `bytes` at or after `start`, found by `memchr`, which scans a token
    /// many bytes at a time (a byte loop over each of a token's three scans cost a third of a
    /// microsecond).
    static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
              let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// The parameters of a request's query string.
    static func query(of request: Request) throws(OAuthError) -> FormParameters {
        try FormParameters(parsing: request.uri.query ?? "")
    }

    /// The parameters of a form body (at most the context's body limit).
    static func body(of request: Request, limit: Int) async throws -> FormParameters {
        try requireFormContentType(request.headers[.contentType])
        return try FormParameters(body: try await request.body.collect(upTo: limit), contentType: request.headers[.contentType])
    }

    /// The parameters of a form body already read.
    init(body: ByteBuffer, contentType: String?) throws(OAuthError) {
        try Self.requireFormContentType(contentType)
        self = try body.withUnsafeReadableBytes { raw in
            Result { () throws(OAuthError) in try FormParameters(parsing: raw.bindMemory(to: UInt8.self)) }
        }.get()
    }

    private static func requireFormContentType(_ contentType: String?) throws(OAuthError) {
        guard (contentType ?? "").lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw OAuthError(.invalidRequest, "the body must be application/x-www-form-urlencoded")
        }
    }
}
