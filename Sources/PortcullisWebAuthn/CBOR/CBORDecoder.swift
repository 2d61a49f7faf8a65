/// A strict CBOR decoder for WebAuthn structures (attestation objects, COSE keys, extension
/// outputs).
///
/// It refuses indefinite lengths, tags, duplicate map keys, reserved encodings, invalid UTF-8 and
/// nesting past `maximumDepth`; no length read from the input is trusted before it is checked
/// against the bytes that remain, so a hostile input cannot make it allocate more than it sent.
/// It does not insist on the canonical (shortest, sorted) form: authenticators in the field do not
/// all produce it, and nothing here depends on it.
///
/// ```swift
/// let object = try CBORDecoder.decode(attestationObjectBytes)
/// let format = object["fmt"]?.textString
/// ```
public enum CBORDecoder {
    /// How deep arrays and maps may nest by default (the top-level item is depth 1).
    public static let maximumDepth = 16

    /// Decodes `bytes` as exactly one item: trailing bytes are an error.
    public static func decode(_ bytes: [UInt8], maximumDepth: Int = maximumDepth) throws(CBORError) -> CBORValue {
        let (value, length) = try decodePrefix(bytes[...], maximumDepth: maximumDepth)
        guard length == bytes.count else { throw .trailingBytes(offset: length, count: bytes.count - length) }
        return value
    }

    /// Decodes the one item `bytes` starts with and returns it with the number of bytes it took;
    /// what follows is left to the caller (attested credential data: a COSE key, then extensions).
    public static func decodePrefix(_ bytes: ArraySlice<UInt8>, maximumDepth: Int = maximumDepth) throws(CBORError) -> (value: CBORValue, length: Int) {
        var reader = Reader(bytes: bytes, maximumDepth: maximumDepth)
        let value = try reader.item(depth: 1)
        return (value, reader.position - bytes.startIndex)
    }
}

/// The cursor over the input; each call consumes one item.
private struct Reader {
    let bytes: ArraySlice<UInt8>
    let maximumDepth: Int
    var position: Int

    init(bytes: ArraySlice<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
        self.position = bytes.startIndex
    }

    var offset: Int { position - bytes.startIndex }
    var remaining: Int { bytes.endIndex - position }

    mutating func item(depth: Int) throws(CBORError) -> CBORValue {
        guard depth <= maximumDepth else { throw .tooDeep(limit: maximumDepth) }
        let start = offset
        guard remaining > 0 else { throw .truncated(offset: start) }
        let initial = bytes[position]
        position += 1
        let major = initial >> 5, info = initial & 0x1F
        if major == 7 { return try simple(info, at: start) }
        if info == 31 {
            throw (2...5).contains(major) ? .indefiniteLength(offset: start) : .reservedAdditionalInformation(offset: start, value: info)
        }
        let argument = try self.argument(info, at: start)
        switch major {
        case 0:
            return .unsigned(argument)
        case 1:
            return .negative(argument)
        case 2:
            return .bytes(try take(argument, at: start))
        case 3:
            let raw = try take(argument, at: start)
            guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
            return .text(text)
        case 4:
            // Every element takes at least one byte: a count beyond what remains is a lie, refused before any allocation.
            guard argument <= UInt64(remaining) else { throw .lengthExceedsInput(offset: start, declared: argument, remaining: remaining) }
            var elements: [CBORValue] = []
            elements.reserveCapacity(Int(argument))
            for _ in 0..<argument { elements.append(try item(depth: depth + 1)) }
            return .array(elements)
        case 5:
            guard argument <= UInt64(remaining / 2) else { throw .lengthExceedsInput(offset: start, declared: argument, remaining: remaining) }
            var entries: [CBORMapEntry] = []
            entries.reserveCapacity(Int(argument))
            var keys = Set<CBORValue>(minimumCapacity: Int(argument))
            for _ in 0..<argument {
                let keyOffset = offset
                let key = try item(depth: depth + 1)
                guard keys.insert(key).inserted else { throw .duplicateMapKey(offset: keyOffset) }
                entries.append(CBORMapEntry(key: key, value: try item(depth: depth + 1)))
            }
            return .map(entries)
        default:
            throw .tagNotAllowed(offset: start, tag: argument)
        }
    }

    /// The argument of a head whose additional information is `info` (0–27).
    mutating func argument(_ info: UInt8, at start: Int) throws(CBORError) -> UInt64 {
        switch info {
        case 0..<24: return UInt64(info)
        case 24: return try bigEndian(1, at: start)
        case 25: return try bigEndian(2, at: start)
        case 26: return try bigEndian(4, at: start)
        case 27: return try bigEndian(8, at: start)
        default: throw .reservedAdditionalInformation(offset: start, value: info)
        }
    }

    mutating func bigEndian(_ count: Int, at start: Int) throws(CBORError) -> UInt64 {
        guard remaining >= count else { throw .truncated(offset: start) }
        var value: UInt64 = 0
        for byte in bytes[position..<position + count] { value = value << 8 | UInt64(byte) }
        position += count
        return value
    }

    mutating func take(_ length: UInt64, at start: Int) throws(CBORError) -> [UInt8] {
        guard length <= UInt64(remaining) else { throw .lengthExceedsInput(offset: start, declared: length, remaining: remaining) }
        let slice = bytes[position..<position + Int(length)]
        position += Int(length)
        return Array(slice)
    }

    /// Major type 7: simple values and floats.
    mutating func simple(_ info: UInt8, at start: Int) throws(CBORError) -> CBORValue {
        switch info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 24:
            // One-byte simple values: 0–31 are not well-formed here, the rest unassigned.
            let value = try bigEndian(1, at: start)
            throw .unsupportedSimpleValue(offset: start, value: UInt8(value))
        case 25: return .float(Self.half(UInt16(try bigEndian(2, at: start))))
        case 26: return .float(Double(Float(bitPattern: UInt32(try bigEndian(4, at: start)))))
        case 27: return .float(Double(bitPattern: try bigEndian(8, at: start)))
        case 31: throw .unexpectedBreak(offset: start)
        case 28...30: throw .reservedAdditionalInformation(offset: start, value: info)
        default: throw .unsupportedSimpleValue(offset: start, value: info)
        }
    }

    /// IEEE 754 binary16 (RFC 8949 appendix D).
    static func half(_ bits: UInt16) -> Double {
        let exponent = Int(bits >> 10 & 0x1F), mantissa = Double(bits & 0x3FF)
        let magnitude: Double = switch exponent {
        case 0: mantissa * 0x1p-24
        case 31: mantissa == 0 ? .infinity : .nan
        default: (1 + mantissa / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
        return bits & 0x8000 != 0 ? -magnitude : magnitude
    }
}
