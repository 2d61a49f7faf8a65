/// The append-only audit trail.
public protocol AuditStore: Sendable {
    /// Appends one event.
    func appendAudit(_ event: AuditEvent) async throws
    /// The newest `limit` events, newest first.
    func recentAudit(limit: Int) async throws -> [AuditEvent]
    /// Every audit row with its hashes, oldest first (for `audit verify`).
    func auditEntries() async throws -> [AuditChain.Entry]
}
