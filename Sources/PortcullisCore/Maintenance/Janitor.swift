public import Foundation

/// Removes expired rows on a schedule: the one place rows are cleaned up, so no request path
/// pays for a DELETE and no store reads the wall clock.
///
/// Rows are kept `retention` past their expiry: a replayed authorization code is still
/// recognised (and revokes what it issued) for an hour, and a revoked access token is
/// remembered past any clock skew.
public struct Janitor: Sendable {
    /// Sweep every five minutes unless configured otherwise.
    public static let defaultInterval: Duration = .seconds(300)
    /// How long past expiry a row is kept.
    public static let retention: TimeInterval = 3600

    let store: any ExpiredRowStore
    let interval: Duration
    let accessTokenTTL: TimeInterval
    let keepDecisions: Int
    let metrics: PortcullisMetrics
    let clock: @Sendable () -> Date

    /// A janitor over `store`: tokenless families go `accessTokenTTL` + `retention` after they
    /// started, the decision log keeps `keepDecisions` rows.
    public init(store: any ExpiredRowStore, interval: Duration = Self.defaultInterval, accessTokenTTL: TimeInterval, keepDecisions: Int,
                metrics: PortcullisMetrics = PortcullisMetrics(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.interval = interval
        self.accessTokenTTL = accessTokenTTL
        self.keepDecisions = keepDecisions
        self.metrics = metrics
        self.clock = clock
    }

    /// A janitor with the configured interval, token lifetime and decision-log size.
    public init(store: any ExpiredRowStore, configuration: PortcullisConfiguration, metrics: PortcullisMetrics,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.init(store: store, interval: .seconds(configuration.janitorInterval), accessTokenTTL: configuration.accessTokenTTL,
                  keepDecisions: configuration.decisionLogSize, metrics: metrics, clock: clock)
    }

    /// The cutoff of a sweep at `now`.
    public func cutoff(at now: Date) -> ExpiryCutoff {
        ExpiryCutoff(expiredBefore: now.addingTimeInterval(-Self.retention),
                     tokenlessFamiliesStartedBefore: now.addingTimeInterval(-(accessTokenTTL + Self.retention)),
                     keepDecisions: keepDecisions)
    }

    /// One sweep now, unless another replica holds the maintenance lock (then `.skipped`, at
    /// once); counted in `portcullis_janitor_sweeps_total{result}` and the removed rows in
    /// `portcullis_janitor_rows_removed_total{kind}`.
    @discardableResult
    public func sweep() async throws -> SweepOutcome {
        let outcome = try await store.removeExpired(cutoff(at: clock()))
        metrics.janitorSweep(outcome)
        return outcome
    }

    /// Sweeps, then again every `interval`, until cancelled. A round another replica was sweeping
    /// is skipped (and reported) rather than waited for; a failed sweep is reported and retried next time.
    public func run(onSkipped: @escaping @Sendable () -> Void = {}, onFailure: @escaping @Sendable (any Error) -> Void = { _ in }) async {
        while !Task.isCancelled {
            do {
                if try await sweep() == .skipped { onSkipped() }
            } catch {
                if !Task.isCancelled { onFailure(error) }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
