/// Base64url without padding (RFC 4648 section 5), as JOSE uses it.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// Encodes bytes without padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        if let encoded = bytes.withContiguousStorageIfAvailable({ encode($0) }) { return encoded }
        return Array(bytes).withUnsafeBufferPointer { encode($0) }
    }

    /// Encodes bytes without padding, straight into the string's storage (15 characters or fewer,
    /// 11 bytes or fewer, are stored in the string itself).
    private static func encode(_ input: UnsafeBufferPointer<UInt8>) -> String {
        let whole = input.count / 3
        let rest = input.count % 3
        let length = whole * 4 + (rest == 0 ? 0 : rest + 1)
        return String(unsafeUninitializedCapacity: length) { output in
            alphabet.withUnsafeBufferPointer { alphabet in
                var written = 0
                // The first `characters` 6-bit groups of a 24-bit chunk.
                func put(_ chunk: UInt32, _ characters: Int) {
                    var shift: UInt32 = 18
                    for _ in 0..<characters {
                        output[written] = alphabet[Int(chunk >> shift & 63)]
                        written += 1
                        shift &-= 6
                    }
                }
                for index in stride(from: 0, to: whole * 3, by: 3) {
                    put(UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2]), 4)
                }
                switch rest {
                case 1: put(UInt32(input[whole * 3]) << 16, 2)
                case 2: put(UInt32(input[whole * 3]) << 16 | UInt32(input[whole * 3 + 1]) << 8, 3)
                default: break
                }
                return written
            }
        }
    }

    /// Decodes strictly: nil for any character outside the alphabet, for padding, for an
    /// impossible length, or for non-zero bits after the last whole byte.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(bytes: text.utf8)
    }

    /// `decode` of the text's UTF-8 bytes.
    public static func decode(bytes input: some Collection<UInt8>) -> [UInt8]? {
        decode(bytes: ArraySlice(input))
    }

    /// `decode` of bytes in an array (the generic one, not specialised across modules, cost twice as much).
    public static func decode(bytes input: ArraySlice<UInt8>) -> [UInt8]? {
        guard input.count % 4 != 1 else { return nil }
        return Base64Alphabet.decode(input, reverse: reverse, requireZeroTail: true)
    }
}

/// Base64 with padding (RFC 4648 section 4), as HTTP Basic credentials carry it.
public enum Base64 {
    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    /// Decodes padded base64: nil unless the length is a multiple of 4, `=` appears only as the
    /// last one or two characters, and every other character is in the alphabet. Bits after the
    /// last whole byte are ignored, as Foundation's `Data(base64Encoded:)` ignores them (it also
    /// accepts `====` and `YW=j`, which this refuses).
    public static func decode(padded input: ArraySlice<UInt8>) -> [UInt8]? {
        guard input.count % 4 == 0 else { return nil }
        var end = input.endIndex
        while end > input.startIndex, input.endIndex - end < 2, input[end - 1] == UInt8(ascii: "=") { end -= 1 }
        return Base64Alphabet.decode(input[..<end], reverse: reverse, requireZeroTail: false)
    }
}

/// The decoding loop both alphabets share.
enum Base64Alphabet {
    /// The bytes of `input` under `reverse` (-1: not in the alphabet); nil for a character outside
    /// it, and with `requireZeroTail` for non-zero bits after the last whole byte.
    static func decode(_ input: ArraySlice<UInt8>, reverse: [Int8], requireZeroTail: Bool) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = reverse[Int(byte)]
            guard value >= 0 else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard !requireZeroTail || accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
