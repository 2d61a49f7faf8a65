/// A strict, byte-level JSON reader (RFC 8259) of one object, without Foundation or Codable: the
/// grammar behind the server's request bodies (`StrictJSONObject`), the JWS protected header
/// (`JWSHeader(strictJSON:)`) and access-token claims.
///
/// Strict where `JSONDecoder` is lenient: only UTF-8 (no byte order mark, no UTF-16), one object
/// and nothing after it, duplicate member names refused (compared after decoding escapes, byte for
/// byte), lone surrogate escapes and raw control characters refused, numbers and literals exactly
/// as the grammar has them. Depth and member count are bounded, so the work is linear in the input.
///
/// One pass over borrowed bytes, recursion bounded by `maximumDepth`, and no allocation but the
/// member names, the kept strings (plus one scratch buffer when a string has escapes). The caller reads
/// each top-level member's value with one of the value readers (`StrictJSONReader+Values.swift`):
///
/// ```swift
/// var reader = StrictJSONReader(bytes)
/// var members: [(String, StrictJSONValue)] = []
/// try reader.readObject { key, reader throws(StrictJSONError) in members.append((key, try reader.readValue())) }
/// ```
package struct StrictJSONReader {
    /// Levels of arrays and objects allowed, the outer object being level 1.
    package static let maximumDepth = 8
    /// Members allowed in the outer object.
    package static let maximumMembers = 64

    let bytes: UnsafeRawBufferPointer
    var offset = 0
    /// Decoded bytes of a string with escapes; reused from string to string.
    private var scratch: [UInt8] = []

    /// A reader of `bytes`, which must outlive it.
    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    // ASCII bytes of the grammar.
    static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
    private static let comma = UInt8(ascii: ","), colon = UInt8(ascii: ":")
    static let minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")

    /// Reads the whole input: whitespace, one object, whitespace, end. For each member of the
    /// object, in order, `readMember` gets its decoded name and this reader at its value, and must
    /// read that value with exactly one of the value readers (`readValue()`, `skipValue()`,
    /// `readInt64()`, `readStrings(acceptingOne:)`). At most `maximumMembers` members, no two
    /// with the same name.
    ///
    /// Not generic over what `readMember` keeps: a generic call from another module runs
    /// unspecialized, and cost the claims decoder a third of its time.
    package mutating func readObject(_ readMember: (String, inout StrictJSONReader) throws(StrictJSONError) -> Void) throws(StrictJSONError) {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { throw .malformed(.byteOrderMark, offset: 0) }
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == Self.openBrace else { throw .notAnObject }
        try readMembers(readMember)
        skipWhitespace()
        guard offset == bytes.count else { throw .malformed(.trailingBytes, offset: offset) }
    }

    /// The outer object's members, at `{`.
    private mutating func readMembers(_ readMember: (String, inout StrictJSONReader) throws(StrictJSONError) -> Void) throws(StrictJSONError) {
        offset += 1
        skipWhitespace()
        if try peek() == Self.closeBrace {
            offset += 1
            return
        }
        var keys: [String] = []
        // An access token has about a dozen members: one allocation, not three as the array grows.
        keys.reserveCapacity(16)
        while true {
            guard try peek() == Self.quote else { throw unexpected() }
            let key = try readString(decoding: true)
            try expectColon()
            let valueStart = offset
            try readMember(key, &self)
            // Reading nothing would let `{"a":}` through.
            precondition(offset > valueStart, "readObject's readMember must read the member's value")
            for seen in keys where Self.sameBytes(seen, key) { throw .duplicateKey(key) }
            guard keys.count < Self.maximumMembers else { throw .tooManyMembers(limit: Self.maximumMembers) }
            keys.append(key)
            guard try endOfMember(closing: Self.closeBrace) else { return }
        }
    }

    /// Byte equality: JSON names are sequences of code points, and `String ==` would also equate
    /// canonically equivalent ones (`é` and `e` + U+0301).
    package static func sameBytes(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
    }

    /// Validates one value of any type at `offset` and moves past it; returns its kind, nil for a
    /// string or `null`. `depth` is the level of the container holding it; a nested array or object
    /// is one level deeper.
    @discardableResult
    mutating func skipValue(depth: Int) throws(StrictJSONError) -> StrictJSONKind? {
        switch try peek() {
        case Self.quote:
            _ = try readString(decoding: false)
            return nil
        case Self.openBrace, Self.openBracket:
            let closing = bytes[offset] == Self.openBrace ? Self.closeBrace : Self.closeBracket
            guard depth < Self.maximumDepth else { throw .tooDeep(limit: Self.maximumDepth) }
            offset += 1
            skipWhitespace()
            if try peek() == closing {
                offset += 1
            } else {
                repeat {
                    if closing == Self.closeBrace {
                        guard try peek() == Self.quote else { throw unexpected() }
                        _ = try readString(decoding: false)
                        try expectColon()
                    }
                    try skipValue(depth: depth + 1)
                } while try endOfMember(closing: closing)
            }
            return closing == Self.closeBrace ? .object : .array
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .boolean
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .boolean
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return nil
        case Self.minus, Self.zero...Self.nine:
            try skipNumber()
            return .number
        default:
            throw unexpected()
        }
    }

    /// After a member or element: true at `,` (moved past it and whitespace), false at `closing`
    /// (moved past it).
    mutating func endOfMember(closing: UInt8) throws(StrictJSONError) -> Bool {
        skipWhitespace()
        switch try peek() {
        case Self.comma:
            offset += 1
            skipWhitespace()
            return true
        case closing:
            offset += 1
            return false
        default:
            throw unexpected()
        }
    }

    private mutating func expectColon() throws(StrictJSONError) {
        skipWhitespace()
        guard try peek() == Self.colon else { throw unexpected() }
        offset += 1
        skipWhitespace()
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(StrictJSONError) {
        for index in 0..<literal.utf8CodeUnitCount {
            guard try peek() == literal.utf8Start[index] else { throw unexpected() }
            offset += 1
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, refused with the number's offset.
    mutating func skipNumber() throws(StrictJSONError) {
        let start = offset
        if bytes[offset] == Self.minus { offset += 1 }
        guard offset < bytes.count, isDigit(bytes[offset]) else { throw .malformed(.invalidNumber, offset: start) }
        if bytes[offset] == Self.zero {
            offset += 1
            if offset < bytes.count, isDigit(bytes[offset]) { throw .malformed(.invalidNumber, offset: start) }
        } else {
            skipDigits()
        }
        if offset < bytes.count, bytes[offset] == Self.dot {
            offset += 1
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw .malformed(.invalidNumber, offset: start) }
            skipDigits()
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            offset += 1
            if offset < bytes.count, bytes[offset] == Self.plus || bytes[offset] == Self.minus { offset += 1 }
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw .malformed(.invalidNumber, offset: start) }
            skipDigits()
        }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte &- Self.zero < 10 }

    private mutating func skipDigits() {
        while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
    }

    /// A string at its opening quote; moves past the closing one. Returns the decoded text when
    /// `decoding`, else only validates it (and returns "").
    mutating func readString(decoding: Bool) throws(StrictJSONError) -> String {
        offset += 1
        var runStart = offset
        var escaped = false
        while offset < bytes.count {
            skipPlainASCII()
            guard offset < bytes.count else { break }
            let byte = bytes[offset]
            if byte == Self.quote {
                defer { offset += 1 }
                guard decoding else { return "" }
                let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<offset])
                guard escaped else { return String(decoding: run, as: UTF8.self) }
                scratch.append(contentsOf: run)
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == Self.backslash {
                if decoding {
                    if !escaped { scratch.removeAll(keepingCapacity: true) }
                    scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<offset]))
                }
                escaped = true
                try readEscape(decoding: decoding)
                runStart = offset
            } else if byte < 0x20 {
                throw .malformed(.controlCharacter, offset: offset)
            } else if byte < 0x80 {
                offset += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw .malformed(.unexpectedEnd, offset: offset)
    }

    /// Moves over 8 bytes at a time while none of them is a quote, a backslash, a control character
    /// or non-ASCII: a token is one long run of base64url, and this cut the parse of a 1 KiB verify
    /// body from 1.2 to 0.35 µs (release). Bit tricks of "Bit Twiddling Hacks": a byte below n
    /// (or zero, n = 1) borrows into its clear high bit when n is subtracted from every byte; a
    /// borrow can only mark bytes above a byte that matched, so "any byte" is exact.
    @inline(__always)
    private mutating func skipPlainASCII() {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while offset + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let quote = word ^ (ones &* UInt64(Self.quote)), backslash = word ^ (ones &* UInt64(Self.backslash))
            // `~word & highs` serves all three tests: xor with an ASCII byte keeps each high bit.
            let special = ((quote &- ones) | (backslash &- ones) | (word &- ones &* 0x20)) & ~word & highs
            guard special | (word & highs) == 0 else { return }
            offset += 8
        }
    }

    /// One escape at its backslash; appends the decoded bytes to `scratch` when `decoding`.
    private mutating func readEscape(decoding: Bool) throws(StrictJSONError) {
        let start = offset
        offset += 1
        let decoded: UInt8
        switch try peek() {
        case Self.quote, Self.backslash, UInt8(ascii: "/"): decoded = bytes[offset]
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
        case UInt8(ascii: "u"):
            offset += 1
            var scalar = try readHex4(escapeAt: start)
            if scalar & 0xFC00 == 0xD800 {
                guard offset + 1 < bytes.count, bytes[offset] == Self.backslash, bytes[offset + 1] == UInt8(ascii: "u") else {
                    throw .malformed(.unpairedSurrogate, offset: start)
                }
                offset += 2
                let low = try readHex4(escapeAt: offset - 2)
                guard low & 0xFC00 == 0xDC00 else { throw .malformed(.unpairedSurrogate, offset: start) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar & 0xFC00 == 0xDC00 {
                throw .malformed(.unpairedSurrogate, offset: start)
            }
            if decoding { appendUTF8(scalar) }
            return
        default:
            throw .malformed(.invalidEscape, offset: start)
        }
        offset += 1
        if decoding { scratch.append(decoded) }
    }

    /// Four hex digits at `offset`; an escape with fewer is invalid, one cut by the end unexpected.
    private mutating func readHex4(escapeAt start: Int) throws(StrictJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = try peek()
            let digit: UInt8
            switch byte {
            case Self.zero...Self.nine: digit = byte - Self.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .malformed(.invalidEscape, offset: start)
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// One multi-byte UTF-8 sequence at `offset` (Unicode table 3-7: no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    private mutating func skipUTF8Sequence() throws(StrictJSONError) {
        let lead = bytes[offset]
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: throw .malformed(.invalidUTF8, offset: offset)
        }
        guard offset + length <= bytes.count, second.contains(bytes[offset + 1]) else { throw .malformed(.invalidUTF8, offset: offset) }
        for index in offset + 2 ..< offset + length where bytes[index] & 0xC0 != 0x80 {
            throw .malformed(.invalidUTF8, offset: offset)
        }
        offset += length
    }

    /// The byte at `offset`.
    func peek() throws(StrictJSONError) -> UInt8 {
        guard offset < bytes.count else { throw .malformed(.unexpectedEnd, offset: offset) }
        return bytes[offset]
    }

    /// The error for the byte at `offset`: unexpected, or the end.
    func unexpected() -> StrictJSONError {
        .malformed(offset < bytes.count ? .unexpectedByte : .unexpectedEnd, offset: offset)
    }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }
}
