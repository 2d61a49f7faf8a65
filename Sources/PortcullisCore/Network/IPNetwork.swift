/// A CIDR block such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a block of one.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the block (host bits zero).
    public let address: IPAddress
    /// Leading bits that every member shares.
    public let prefixLength: Int

    /// Parses `address/length` or a bare address; nil for anything else, including a block
    /// written with host bits set (`10.0.0.1/8`), which is more likely a typo than a wish.
    /// An IPv4-mapped IPv6 address is read as the IPv4 address it carries.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let parsed = IPAddress(parts[0]), !parts[0].contains("%") else { return nil }
        let address = parsed.unmapped
        let width = address.bytes.count * 8
        var length = width
        if parts.count == 2 {
            let digits = parts[1]
            guard (1...3).contains(digits.count), digits.allSatisfy({ ("0"..."9").contains($0) }), let bits = Int(digits) else { return nil }
            // A mapped address's length counts the 96 bits of its ::ffff: prefix.
            let mapped = !parsed.isIPv4 && address.isIPv4
            length = mapped ? bits - 96 : bits
            guard (0...width).contains(length) else { return nil }
        }
        guard address.prefix(length) == address else { return nil }
        self.address = address
        self.prefixLength = length
    }

    /// True when `candidate` (IPv4-mapped IPv6 read as IPv4) lies in this block.
    public func contains(_ candidate: IPAddress) -> Bool {
        let candidate = candidate.unmapped
        return candidate.bytes.count == address.bytes.count && candidate.prefix(prefixLength) == address
    }

    /// `address/length`.
    public var description: String { "\(address)/\(prefixLength)" }
}
