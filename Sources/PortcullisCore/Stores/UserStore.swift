public import Foundation

/// Users by id and by name (case-insensitive).
public protocol UserStore: Sendable {
    /// Stores a new user; throws `PortcullisError.conflict` when the name is taken.
    func createUser(_ user: User) async throws
    /// The user with this id.
    func user(id: String) async throws -> User?
    /// The user with this name, compared without regard to case.
    func user(username: String) async throws -> User?
    /// Every user, ordered by name.
    func allUsers() async throws -> [User]
    /// Replaces the stored password hash.
    func updatePasswordHash(userID: String, hash: String, at: Date) async throws
    /// Enables or disables the user; false when there is no such user.
    func setDisabled(userID: String, disabled: Bool, at: Date) async throws -> Bool
    /// Deletes the user with their grants and sessions; false when there is no such user.
    func deleteUser(id: String) async throws -> Bool
    /// GDPR erasure in one transaction: deletes the user with grants, MFA, sessions, consents, codes,
    /// lockout and decision-log rows, and pseudonymises their audit rows (actor/subject → `pseudonym`,
    /// address and detail cleared), then appends a `user.erase` audit event at `at` listing them.
    /// Returns the pseudonymised audit row ids; empty if the user is absent.
    func eraseUser(id: String, username: String, pseudonym: String, at: Date) async throws -> [Int64]
}
