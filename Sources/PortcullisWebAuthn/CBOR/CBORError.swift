/// Why the strict CBOR decoder refused its input. Offsets count bytes from the start of the input.
public enum CBORError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input ends inside an item (or is empty).
    case truncated(offset: Int)
    /// A string, array or map declares more than the bytes that remain could hold.
    case lengthExceedsInput(offset: Int, declared: UInt64, remaining: Int)
    /// An indefinite-length string, array or map: CTAP2 canonical CBOR has none.
    case indefiniteLength(offset: Int)
    /// Additional information 28–30 (reserved), or 31 where it means nothing.
    case reservedAdditionalInformation(offset: Int, value: UInt8)
    /// A "break" byte outside an indefinite-length item.
    case unexpectedBreak(offset: Int)
    /// A tag (major type 6): none is expected in WebAuthn structures.
    case tagNotAllowed(offset: Int, tag: UInt64)
    /// A simple value other than false, true, null and undefined.
    case unsupportedSimpleValue(offset: Int, value: UInt8)
    /// A text string that is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// A map with the same key twice.
    case duplicateMapKey(offset: Int)
    /// Arrays and maps nested past the limit.
    case tooDeep(limit: Int)
    /// Bytes left after the one item the whole input should be.
    case trailingBytes(offset: Int, count: Int)

    /// What went wrong, for logs.
    public var description: String {
        switch self {
        case .truncated(let offset): "CBOR input ends inside an item at byte \(offset)"
        case .lengthExceedsInput(let offset, let declared, let remaining):
            "CBOR item at byte \(offset) declares \(declared) entries or bytes but only \(remaining) bytes remain"
        case .indefiniteLength(let offset): "CBOR indefinite-length item at byte \(offset) is not allowed"
        case .reservedAdditionalInformation(let offset, let value): "CBOR reserved additional information \(value) at byte \(offset)"
        case .unexpectedBreak(let offset): "CBOR break byte outside an indefinite-length item at byte \(offset)"
        case .tagNotAllowed(let offset, let tag): "CBOR tag \(tag) at byte \(offset) is not allowed"
        case .unsupportedSimpleValue(let offset, let value): "CBOR simple value \(value) at byte \(offset) is not supported"
        case .invalidUTF8(let offset): "CBOR text string at byte \(offset) is not valid UTF-8"
        case .duplicateMapKey(let offset): "CBOR map has a duplicate key at byte \(offset)"
        case .tooDeep(let limit): "CBOR nesting deeper than \(limit) levels"
        case .trailingBytes(let offset, let count): "\(count) bytes follow the CBOR item (from byte \(offset))"
        }
    }
}
