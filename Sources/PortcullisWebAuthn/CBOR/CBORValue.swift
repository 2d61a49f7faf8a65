/// One decoded CBOR data item (RFC 8949), as the strict decoder returns it.
///
/// Tags and indefinite lengths never appear: the decoder refuses them (CTAP2 canonical CBOR has
/// neither).
public indirect enum CBORValue: Sendable, Hashable {
    /// Major type 0: an unsigned integer.
    case unsigned(UInt64)
    /// Major type 1: the integer -1 - `n` (so `.negative(0)` is -1).
    case negative(UInt64)
    /// Major type 2: a byte string.
    case bytes([UInt8])
    /// Major type 3: a text string (valid UTF-8).
    case text(String)
    /// Major type 4: an array.
    case array([CBORValue])
    /// Major type 5: a map, its pairs in the order they were encoded; keys are unique.
    case map([CBORMapEntry])
    /// `false` or `true`.
    case bool(Bool)
    /// `null`.
    case null
    /// `undefined`.
    case undefined
    /// A half, single or double precision float, widened to `Double`.
    case float(Double)

    /// The value as an `Int` when it is an integer that fits, else nil.
    public var integer: Int? {
        switch self {
        case .unsigned(let n): n <= UInt64(Int.max) ? Int(n) : nil
        case .negative(let n): n <= UInt64(Int.max) ? -1 - Int(n) : nil
        default: nil
        }
    }

    /// The bytes of a byte string, else nil.
    public var byteString: [UInt8]? {
        if case .bytes(let bytes) = self { bytes } else { nil }
    }

    /// The text of a text string, else nil.
    public var textString: String? {
        if case .text(let text) = self { text } else { nil }
    }

    /// The pairs of a map, else nil.
    public var mapEntries: [CBORMapEntry]? {
        if case .map(let entries) = self { entries } else { nil }
    }

    /// The value under `key` when this is a map that has it.
    public subscript(key: CBORValue) -> CBORValue? {
        mapEntries?.first { $0.key == key }?.value
    }

    /// The value under the integer key `key` (COSE labels) when this is a map that has it.
    public subscript(key: Int) -> CBORValue? {
        self[key >= 0 ? .unsigned(UInt64(key)) : .negative(UInt64(-1 - key))]
    }

    /// The value under the text key `key` when this is a map that has it.
    public subscript(key: String) -> CBORValue? {
        self[.text(key)]
    }
}

/// One key/value pair of a CBOR map.
public struct CBORMapEntry: Sendable, Hashable {
    /// The key.
    public var key: CBORValue
    /// The value.
    public var value: CBORValue

    /// A pair of `key` and `value`.
    public init(key: CBORValue, value: CBORValue) {
        self.key = key
        self.value = value
    }
}
