/// Storage of the bounded decision log.
public protocol DecisionLogStore: Sendable {
    /// Appends records and keeps only the newest `capacity`.
    ///
    /// The trim is maintenance: where several processes share the database (PostgreSQL) it runs
    /// only in an append that wins the maintenance lock without waiting (see
    /// `ExpiredRowStore.removeExpired`). An append that finds the lock held leaves the trim to the
    /// next append, so the log exceeds `capacity` by at most the batches appended while another
    /// process was trimming or sweeping.
    func appendDecisions(_ records: [DecisionRecord], capacity: Int) async throws
    /// The newest `limit` records, newest first.
    func recentDecisions(limit: Int) async throws -> [DecisionRecord]
}
