public import Foundation

/// One security-relevant event: a login, a token issued or revoked, an admin change.
public struct AuditEvent: Sendable, Equatable, Codable {
    /// Sequence number assigned by the store (nil before it is stored).
    public var id: Int64?
    /// When it happened.
    public var at: Date
    /// What happened, dotted (`login.success`, `user.add`, `token.reuse`).
    public var action: String
    /// Who did it: a user id, `cli`, or `anonymous`.
    public var actor: String
    /// What it was done to: a username, user id, family id or key id.
    public var subject: String?
    /// The client's address, when it came over the network.
    public var remoteAddress: String?
    /// Short free text; never a secret.
    public var detail: String?

    /// Creates an event.
    public init(id: Int64? = nil, at: Date, action: String, actor: String, subject: String? = nil, remoteAddress: String? = nil, detail: String? = nil) {
        self.id = id
        self.at = at
        self.action = action
        self.actor = actor
        self.subject = subject
        self.remoteAddress = remoteAddress
        self.detail = detail
    }
}
