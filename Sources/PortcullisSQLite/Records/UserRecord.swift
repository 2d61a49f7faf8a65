import Foundation
import GRDB
import PortcullisCore

/// A row of `users`.
struct UserRecord: SQLiteRecord {
    static let databaseTableName = "users"

    var id: String
    var username: String
    /// `User.key(forUsername:)`: the one case-folded form that lookups, ordering and uniqueness use.
    var usernameKey: String
    var email: String?
    var passwordHash: String
    var disabled: Bool
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, username, email, disabled
        case usernameKey = "username_key", passwordHash = "password_hash", createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ user: User) {
        id = user.id
        username = user.username
        usernameKey = User.key(forUsername: user.username)
        email = user.email
        passwordHash = user.passwordHash
        disabled = user.disabled
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }

    var user: User {
        User(id: id, username: username, email: email, passwordHash: passwordHash, disabled: disabled, createdAt: createdAt, updatedAt: updatedAt)
    }
}
