/// An IPv4 or IPv6 address, parsed strictly from its text form.
///
/// Parsed here rather than with `inet_pton` so that Core stays free of C types and the same
/// rules hold on every platform: dotted quads of four decimal parts (no leading zeros, which
/// some parsers read as octal), IPv6 groups of one to four hex digits with at most one `::`
/// and an optional dotted-quad tail; a zone (`%eth0`) is dropped.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]

    /// The address `text` names, or nil when it is not exactly an IPv4 or IPv6 address.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if let v4 = Self.parseIPv4(Substring(text)) {
            bytes = v4
        } else if let v6 = Self.parseIPv6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    /// An address of exactly 4 or 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// True for a 4-byte address.
    public var isIPv4: Bool { bytes.count == 4 }

    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 address it carries; any other unchanged.
    public var unmapped: IPAddress {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return self }
        return IPAddress(uncheckedBytes: Array(bytes[12..<16]))
    }

    /// The first `bits` bits, the rest zero.
    public func prefix(_ bits: Int) -> IPAddress {
        IPAddress(uncheckedBytes: bytes.enumerated().map { index, byte in
            let kept = min(max(bits - index * 8, 0), 8)
            return kept == 8 ? byte : byte & ~(UInt8.max >> kept)
        })
    }

    /// Dotted quad, or the RFC 5952 form (lowercase, no leading zeros, the longest run of two or
    /// more zero groups as `::`).
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best = (start: -1, length: 0)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index > best.length { best = (index, end - index) }
            index = end
        }
        func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.length >= 2 else { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
    }

    private init(uncheckedBytes: [UInt8]) {
        bytes = uncheckedBytes
    }

    /// Exactly four dot-separated decimal parts of 1 to 3 ASCII digits, each at most 255 and
    /// without a leading zero (so a parsed address is spelled one way only). Byte-wise: a client
    /// address is parsed at every login and client authentication.
    private static func parseIPv4(_ text: Substring) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 1 && leadingZero { return nil }
                if digits == 0 { leadingZero = byte == UInt8(ascii: "0") }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, value <= 255 else { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, result.count < 3 else { return nil }
                result.append(UInt8(value))
                (value, digits) = (0, 0)
            default:
                return nil
            }
        }
        guard digits > 0, result.count == 3 else { return nil }
        result.append(UInt8(value))
        return result
    }

    private static func parseIPv6(_ full: String) -> [UInt8]? {
        // A zone names an interface, not a different address.
        let text = full.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard text.contains(":") else { return nil }
        let characters = Array(text)
        let doubleColons = characters.indices.dropLast().filter { characters[$0] == ":" && characters[$0 + 1] == ":" }
        guard doubleColons.count <= 1 else { return nil }
        let halves = doubleColons.first.map { [String(characters[..<$0]), String(characters[($0 + 2)...])] } ?? [String(text)]
        func groups(_ part: String, allowTail: Bool) -> [UInt8]? {
            guard !part.isEmpty else { return [] }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var result: [UInt8] = []
            for (index, piece) in pieces.enumerated() {
                if allowTail, index == pieces.count - 1, piece.contains(".") {
                    guard let tail = parseIPv4(piece) else { return nil }
                    result += tail
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit), let value = UInt16(piece, radix: 16) else { return nil }
                    result += [UInt8(value >> 8), UInt8(value & 0xff)]
                }
            }
            return result
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowTail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowTail: false), let tail = groups(halves[1], allowTail: true),
              head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
