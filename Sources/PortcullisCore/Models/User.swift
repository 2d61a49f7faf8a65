public import Foundation

/// A person or service account that can log in with a password.
public struct User: Sendable, Equatable, Codable {
    /// Stable opaque identifier, used as the token subject (`sub`).
    public var id: String
    /// Login name, unique without regard to case.
    public var username: String
    /// Optional e-mail address.
    public var email: String?
    /// Argon2id PHC string.
    public var passwordHash: String
    /// A disabled user cannot log in and their tokens are inactive.
    public var disabled: Bool
    /// When the user was created.
    public var createdAt: Date
    /// When the user was last changed.
    public var updatedAt: Date

    /// The one case-folding rule for usernames, computed here for every backend: canonical
    /// composition (NFC), then Unicode lowercasing — "Ä" and "ä" (and "A\u{308}") are one name.
    public static func key(forUsername username: String) -> String {
        username.precomposedStringWithCanonicalMapping.lowercased()
    }

    /// Creates a user value.
    public init(id: String, username: String, email: String?, passwordHash: String, disabled: Bool, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.username = username
        self.email = email
        self.passwordHash = passwordHash
        self.disabled = disabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Rules for user names and passwords that every entry point shares.
public enum AccountRules {
    /// Shortest password accepted (NIST SP 800-63B).
    public static let minimumPasswordLength = 8
    /// Longest password accepted, in bytes: bounds the hashing input.
    public static let maximumPasswordBytes = 1024

    /// Throws `invalidRequest` unless `name` is 1–64 characters of letters, digits, `.`, `_`, `-`, `@`.
    public static func validateUsername(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
        guard (1...64).contains(name.count), name.allSatisfy({ allowed.contains($0) }) else {
            throw PortcullisError.invalidRequest("username must be 1-64 characters of letters, digits, '.', '_', '-', '@'")
        }
    }

    /// Throws `invalidRequest` unless the password length is within bounds.
    public static func validatePassword(_ password: String) throws {
        guard password.count >= minimumPasswordLength else {
            throw PortcullisError.invalidRequest("password must be at least \(minimumPasswordLength) characters")
        }
        guard password.utf8.count <= maximumPasswordBytes else {
            throw PortcullisError.invalidRequest("password must be at most \(maximumPasswordBytes) bytes")
        }
    }

    /// Throws `invalidRequest` unless `email` is empty-free, short and has one `@` with text on both sides.
    public static func validateEmail(_ email: String) throws {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              !email.contains(where: { $0.isWhitespace }) else {
            throw PortcullisError.invalidRequest("email is not a valid address")
        }
    }
}
