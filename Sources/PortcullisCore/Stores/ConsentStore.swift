public import Foundation

/// The scopes each user has consented to, per client.
public protocol ConsentStore: Sendable {
    /// Scopes the user has consented to for the client.
    func consentedScopes(userID: String, clientID: String) async throws -> Set<String>
    /// Adds scopes to the user's consent for the client.
    func recordConsent(userID: String, clientID: String, scopes: Set<String>, at: Date) async throws
}
