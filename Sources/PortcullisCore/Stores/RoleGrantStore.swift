public import Foundation

/// Role grants stored per user.
public protocol RoleGrantStore: Sendable {
    /// Grants a role; false when it was already granted.
    func grantRole(_ role: String, toUserID userID: String, at: Date) async throws -> Bool
    /// Revokes a role; false when it was not granted.
    func revokeRole(_ role: String, fromUserID userID: String) async throws -> Bool
    /// The user's granted roles, sorted.
    func roles(ofUserID userID: String) async throws -> [String]
}
