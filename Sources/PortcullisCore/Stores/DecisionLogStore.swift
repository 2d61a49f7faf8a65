/// Storage of the bounded decision log.
public protocol DecisionLogStore: Sendable {
    /// Appends records and keeps only the newest `capacity`.
    func appendDecisions(_ records: [DecisionRecord], capacity: Int) async throws
    /// The newest `limit` records, newest first.
    func recentDecisions(limit: Int) async throws -> [DecisionRecord]
}
