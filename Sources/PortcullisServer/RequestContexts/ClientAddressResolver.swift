import Foundation
public import PortcullisCore

/// Who the client is: the TCP peer, or — only when the peer is a trusted proxy — the address
/// the proxies' `X-Forwarded-For` or `Forwarded` header names.
///
/// Each proxy appends the address it received the request from, so the list reads client first,
/// nearest hop last; everything left of the last untrusted hop may have been written by the client
/// itself. The resolver therefore walks the list from the right (at most 32 hops), skips hops that
/// are trusted proxies, and takes the first one that is not. A hop that is not an address
/// (`unknown`, an obfuscated `_name`, garbage) stops the walk: the peer address is used, as if no
/// header had come.
/// `X-Forwarded-For` is read when present (every common proxy writes it), else RFC 7239 `Forwarded`.
public struct ClientAddressResolver: Sendable {
    /// The proxies whose headers are believed.
    public let trustedProxies: [IPNetwork]

    /// A resolver believing the headers of peers in `trustedProxies` (none: headers are never read).
    public init(trustedProxies: [IPNetwork]) {
        self.trustedProxies = trustedProxies
    }

    /// The client's address as text: the resolved hop in canonical form, else `peer`, else `unknown`.
    /// - Parameters:
    ///   - peer: The TCP peer's address (nil in router tests).
    ///   - forwardedFor: Every `X-Forwarded-For` field value, in order.
    ///   - forwarded: Every `Forwarded` field value, in order.
    public func clientAddress(peer: String?, forwardedFor: [String], forwarded: [String]) -> String {
        guard let peer else { return "unknown" }
        guard !trustedProxies.isEmpty, let peerAddress = IPAddress(peer), isTrusted(peerAddress) else { return peer }
        let hops: [String]
        if !forwardedFor.isEmpty {
            hops = forwardedFor.joined(separator: ",").split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        } else if !forwarded.isEmpty {
            guard let parsed = Self.forwardedFor(forwarded.joined(separator: ",")) else { return peer }
            hops = parsed
        } else {
            return peer
        }
        // Only the nearest hops are read: whatever a client prepends stays left of its own entry.
        var farthest = peerAddress
        for hop in hops.reversed().prefix(Self.maximumHops) {
            guard let address = Self.address(ofHop: hop) else { return peer }
            if !isTrusted(address) { return address.description }
            farthest = address
        }
        // Every hop is a trusted proxy: the farthest one is where the request began (unless the
        // chain is longer than any deployment's, which is not believed).
        return hops.count <= Self.maximumHops ? farthest.description : peer
    }

    /// Hops read at most, from the right.
    static let maximumHops = 32

    func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The address of one hop: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:8080`.
    static func address(ofHop hop: String) -> IPAddress? {
        if hop.hasPrefix("[") {
            guard let close = hop.firstIndex(of: "]") else { return nil }
            let rest = hop[hop.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && isPort(rest.dropFirst())) else { return nil }
            let inner = hop[hop.index(after: hop.startIndex)..<close]
            guard let address = IPAddress(inner), !address.isIPv4 else { return nil }
            return address
        }
        if let address = IPAddress(hop) { return address }
        let parts = hop.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, isPort(parts[1]), let address = IPAddress(parts[0]), address.isIPv4 else { return nil }
        return address
    }

    private static func isPort(_ text: Substring) -> Bool {
        (1...5).contains(text.count) && text.allSatisfy { ("0"..."9").contains($0) } && Int(text).map { $0 <= 65535 } == true
    }

    /// The `for=` value of each element of a `Forwarded` field (RFC 7239 section 4), left to right,
    /// unquoted; an element without one gives "" (an unknown hop). Nil when the field does not parse.
    static func forwardedFor(_ field: String) -> [String]? {
        var hops: [String] = []
        var current: String?
        var key = ""
        var value = ""
        var readingValue = false
        var quoted = false
        var closedQuote = false
        var escaped = false
        func endPair() -> Bool {
            let name = key.trimmingCharacters(in: .whitespaces).lowercased()
            defer { key = ""; value = ""; readingValue = false; closedQuote = false }
            if name.isEmpty && !readingValue { return true }
            guard readingValue, !name.isEmpty else { return false }
            if name == "for" {
                guard current == nil else { return false }
                current = value.trimmingCharacters(in: .whitespaces)
            }
            return true
        }
        for character in field {
            if quoted {
                if escaped {
                    value.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    quoted = false
                    closedQuote = true
                } else {
                    value.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                guard readingValue, value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
                quoted = true
            case "=":
                guard !readingValue else { return nil }
                readingValue = true
            case ";":
                guard endPair() else { return nil }
            case ",":
                guard endPair() else { return nil }
                hops.append(current ?? "")
                current = nil
            default:
                // After a quoted string only whitespace may come before the next `;` or `,`.
                if closedQuote {
                    guard character == " " || character == "\t" else { return nil }
                } else if readingValue {
                    value.append(character)
                } else {
                    key.append(character)
                }
            }
        }
        guard !quoted, endPair() else { return nil }
        hops.append(current ?? "")
        return hops
    }
}
