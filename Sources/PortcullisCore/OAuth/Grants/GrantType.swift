/// The grant types of the token endpoint (RFC 6749 sections 4.1, 4.4, 6). Each has exactly one
/// `TokenGrant`; adding a case without a grant stops `TokenEndpoint` from being built.
public enum GrantType: String, Sendable, Codable, CaseIterable {
    /// RFC 6749 section 4.1 with PKCE (RFC 7636).
    case authorizationCode = "authorization_code"
    /// RFC 6749 section 6, with rotation and reuse detection.
    case refreshToken = "refresh_token"
    /// RFC 6749 section 4.4.
    case clientCredentials = "client_credentials"
}

/// A space-separated OAuth scope (RFC 6749 section 3.3): tokens in order, without duplicates.
public struct Scope: Sendable, Equatable, Hashable {
    /// The scope tokens.
    public let tokens: [String]

    /// A scope of `tokens` (duplicates dropped, order kept).
    public init(_ tokens: [String]) {
        var seen = Set<String>()
        self.tokens = tokens.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Parses the space-separated form.
    public init(parsing text: String) {
        self.init(text.split(separator: " ").map(String.init))
    }

    /// The space-separated form.
    public var text: String { tokens.joined(separator: " ") }

    /// True when there are no tokens.
    public var isEmpty: Bool { tokens.isEmpty }

    /// True when `token` is granted.
    public func contains(_ token: String) -> Bool { tokens.contains(token) }

    /// True when every token of `self` is in `other`.
    public func isSubset(of other: Scope) -> Bool { tokens.allSatisfy(other.contains) }

    /// `self`'s tokens that are in `other`, in `self`'s order.
    public func narrowed(to other: Scope) -> Scope { Scope(tokens.filter(other.contains)) }
}
