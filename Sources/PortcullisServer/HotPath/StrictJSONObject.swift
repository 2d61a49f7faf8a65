package import PortcullisCrypto

/// Why a body was refused or a field of it cannot be used. Defined beside the reader in
/// PortcullisCrypto, named here so that the server's code and tests need not import it.
package typealias StrictJSONError = PortcullisCrypto.StrictJSONError

/// The string fields of a request body that must be exactly one JSON object (RFC 8259), read
/// without Foundation or Codable for the hot routes (`/v1/token/verify`, `/v1/authorize`).
///
/// Strict where `JSONDecoder` is lenient, so that the hot path and the Hummingbird route cannot
/// disagree about a body: only UTF-8 (no byte order mark, no UTF-16), one object and nothing after
/// it, duplicate member names refused (compared after decoding escapes, byte for byte), lone
/// surrogate escapes and raw control characters refused, numbers and literals exactly as the
/// grammar has them. Depth, member count and size are bounded, so the work is linear in the body.
///
/// Every value is validated, but only the top-level members that are strings are kept (decoded);
/// a `null` member counts as absent; members of any other type are remembered as "not a string"
/// so that asking for them is an error rather than a silent nil. Unknown members are ignored, as
/// `JSONDecoder` ignores them. Duplicate names inside nested values are not looked for: nothing
/// reads them, so they cannot be read two ways.
///
/// ```swift
/// let body = try StrictJSONObject(parsing: buffer)
/// let token = try body.requiredString("token")
/// let audience = try body.string("audience")
/// ```
package struct StrictJSONObject: Sendable {
    /// The server's body limit (`PortcullisRequestContext.bodyLimit`), the default size bound.
    package static let defaultMaximumBytes = 64 * 1024
    /// Levels of arrays and objects allowed, the body's object being level 1.
    package static let maximumDepth = StrictJSONReader.maximumDepth
    /// Members allowed in the body's object.
    package static let maximumMembers = StrictJSONReader.maximumMembers

    /// What a member that is not a string holds, for the error that names it.
    package typealias Kind = StrictJSONKind

    /// A top-level member's value, as far as anyone reads it.
    typealias Value = StrictJSONValue

    /// A top-level member, in body order.
    typealias Member = (key: String, value: Value)

    /// At most `maximumMembers`; looked up linearly (bodies have two to five members).
    let members: [Member]

    /// Reads `bytes`, which must hold one JSON object and optional whitespace around it.
    /// - Parameters:
    ///   - bytes: the request body, UTF-8.
    ///   - maximumBytes: larger bodies are refused with `tooLarge` before any byte is read.
    package init(parsing bytes: UnsafeRawBufferPointer, maximumBytes: Int = defaultMaximumBytes) throws(StrictJSONError) {
        guard bytes.count <= maximumBytes else { throw .tooLarge(limit: maximumBytes) }
        var reader = StrictJSONReader(bytes)
        var members: [Member] = []
        try reader.readObject { key, reader throws(StrictJSONError) in
            if members.isEmpty { members.reserveCapacity(4) }
            members.append((key, try reader.readValue()))
        }
        self.members = members
    }

    /// Reads a body held in any collection of bytes (contiguous ones are not copied).
    package init(parsing bytes: some Collection<UInt8>, maximumBytes: Int = defaultMaximumBytes) throws(StrictJSONError) {
        let read = { (buffer: UnsafeBufferPointer<UInt8>) -> Result<Self, StrictJSONError> in
            Result { () throws(StrictJSONError) in try Self(parsing: UnsafeRawBufferPointer(buffer), maximumBytes: maximumBytes) }
        }
        let result = bytes.withContiguousStorageIfAvailable(read) ?? Array(bytes).withUnsafeBufferPointer(read)
        self = try result.get()
    }

    /// The string member `key`: nil when it is absent or `null`.
    /// - Throws: `notAString` when the member holds a number, boolean, array or object.
    package func string(_ key: String) throws(StrictJSONError) -> String? {
        guard let value = value(of: key) else { return nil }
        return try value.optionalString { StrictJSONError.notAString(key, found: $0) }
    }

    /// The string member `key`.
    /// - Throws: `missing` when it is absent or `null`, `notAString` when it is not a string.
    package func requiredString(_ key: String) throws(StrictJSONError) -> String {
        guard let text = try string(key) else { throw .missing(key) }
        return text
    }

    /// How many members the body's object has, `null` ones included.
    package var count: Int { members.count }

    /// Whether the body has a member `key`, whatever its value (`null` included).
    package func contains(_ key: String) -> Bool { value(of: key) != nil }

    private func value(of key: String) -> Value? {
        for member in members where StrictJSONReader.sameBytes(member.key, key) { return member.value }
        return nil
    }
}
