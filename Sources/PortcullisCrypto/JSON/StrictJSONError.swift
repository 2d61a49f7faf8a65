/// Why bytes were refused by `StrictJSONReader`, or why a field of a `StrictJSONObject` (the
/// server's request bodies) cannot be used.
///
/// `description` is the server's `error_description` of the 400 answer (docs/API.md), hence "the
/// body": short, and never more than a bounded echo of the body (offsets, the caller's own field
/// names, a duplicate key cut to 64 bytes). Token and header decoding map these to their own errors.
package enum StrictJSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not JSON (RFC 8259); `offset` counts bytes from the start of the body.
    case malformed(Problem, offset: Int)
    /// The body is valid JSON up to its first value, which is not an object (or there is none).
    case notAnObject
    /// The body is longer than `limit` bytes.
    case tooLarge(limit: Int)
    /// Arrays and objects nest deeper than `limit` levels (the body's object is level 1).
    case tooDeep(limit: Int)
    /// The body's object has more than `limit` members.
    case tooManyMembers(limit: Int)
    /// Two members of the body's object have the same name once escapes are decoded.
    case duplicateKey(String)
    /// A required field is absent or `null`.
    case missing(String)
    /// A field the caller reads as a string holds another kind of value.
    case notAString(String, found: StrictJSONKind)

    /// The ways bytes fail to be JSON.
    package enum Problem: Sendable, Equatable {
        /// A byte that cannot start or continue what comes next in the grammar.
        case unexpectedByte
        /// The body ends inside a value.
        case unexpectedEnd
        /// A string holds bytes that are not UTF-8.
        case invalidUTF8
        /// A string holds a raw byte below 0x20 (RFC 8259 requires it escaped).
        case controlCharacter
        /// A backslash not followed by one of `"\/bfnrt` or `u` and four hex digits.
        case invalidEscape
        /// A `\uD800`–`\uDFFF` escape that is not half of a high-low pair.
        case unpairedSurrogate
        /// A number outside RFC 8259's grammar (leading zero, lone `-`, `1.`, `1e`).
        case invalidNumber
        /// The body starts with a UTF-8 byte order mark, which RFC 8259 forbids senders to add.
        case byteOrderMark
        /// Bytes other than whitespace follow the object.
        case trailingBytes

        var text: String {
            switch self {
            case .unexpectedByte: "unexpected byte"
            case .unexpectedEnd: "unexpected end"
            case .invalidUTF8: "invalid UTF-8"
            case .controlCharacter: "unescaped control character"
            case .invalidEscape: "invalid escape"
            case .unpairedSurrogate: "unpaired surrogate escape"
            case .invalidNumber: "invalid number"
            case .byteOrderMark: "byte order mark"
            case .trailingBytes: "bytes after the object"
            }
        }
    }

    /// The text of the 400 answer, e.g. `the body is not valid JSON: unexpected byte at offset 17`.
    package var description: String {
        switch self {
        case .malformed(let problem, let offset): "the body is not valid JSON: \(problem.text) at offset \(offset)"
        case .notAnObject: "the body must be a JSON object"
        case .tooLarge(let limit): "the body is larger than \(limit) bytes"
        case .tooDeep(let limit): "the body nests deeper than \(limit) levels"
        case .tooManyMembers(let limit): "the body has more than \(limit) members"
        case .duplicateKey(let key): "duplicate key \(Self.quoted(key))"
        case .missing(let field): "\(field) is required"
        case .notAString(let field, let kind): "\(field) must be a string, not \(kind.withArticle)"
        }
    }

    /// The key in quotes, cut to 64 bytes, with quote, backslash and control characters escaped:
    /// it comes from the body and ends up in responses and logs.
    static func quoted(_ key: String) -> String {
        var text = "\""
        var bytes = 0
        for scalar in key.unicodeScalars {
            bytes += UTF8.width(scalar)
            if bytes > 64 { text += "…"; break }
            switch scalar.value {
            case 0x22: text += "\\\""
            case 0x5C: text += "\\\\"
            case 0..<0x20, 0x7F...0x9F, 0x2028, 0x2029:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }
}
