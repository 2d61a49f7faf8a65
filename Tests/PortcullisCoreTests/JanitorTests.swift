import CoreMetrics
import Foundation
import PortcullisCore
import Synchronization
import Testing

/// Records the cutoffs it is asked to sweep with and answers a fixed outcome.
final class RecordingExpiredRowStore: ExpiredRowStore {
    let cutoffs = Mutex<[ExpiryCutoff]>([])
    let answer: SweepOutcome
    init(answer: SweepOutcome) { self.answer = answer }
    convenience init(answer: RemovedRows) { self.init(answer: .swept(answer)) }
    func removeExpired(_ cutoff: ExpiryCutoff) async throws -> SweepOutcome {
        cutoffs.withLock { $0.append(cutoff) }
        return answer
    }
}

@Suite struct JanitorTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func aSweepUsesTheInjectedClockAndCountsRemovedRowsByKind() async throws {
        var answer = RemovedRows()
        answer.codes = 3
        answer.families = 2
        let store = RecordingExpiredRowStore(answer: answer)
        let metrics = RecordingMetrics()
        let now = self.now
        let janitor = Janitor(store: store, accessTokenTTL: 900, keepDecisions: 50, metrics: PortcullisMetrics(factory: metrics), clock: { now })

        #expect(try await janitor.sweep() == .swept(answer))
        #expect(store.cutoffs.withLock { $0 } == [ExpiryCutoff(expiredBefore: now.addingTimeInterval(-3600),
                                                             tokenlessFamiliesStartedBefore: now.addingTimeInterval(-4500), keepDecisions: 50)])
        #expect(metrics.counts.withLock { $0 } == ["portcullis_janitor_rows_removed_total{kind=codes}": 3,
                                                   "portcullis_janitor_rows_removed_total{kind=families}": 2,
                                                   "portcullis_janitor_sweeps_total{result=swept}": 1])
    }

    @Test func aRoundAnotherReplicaIsSweepingIsCountedAndReportedAsSkipped() async throws {
        let store = RecordingExpiredRowStore(answer: .skipped)
        let metrics = RecordingMetrics()
        let now = self.now
        let janitor = Janitor(store: store, interval: .milliseconds(5), accessTokenTTL: 900, keepDecisions: 10,
                              metrics: PortcullisMetrics(factory: metrics), clock: { now })
        #expect(try await janitor.sweep() == .skipped)
        #expect(metrics.counts.withLock { $0 } == ["portcullis_janitor_sweeps_total{result=skipped}": 1], "no rows counted")

        let skips = Mutex(0)
        let task = Task { await janitor.run(onSkipped: { skips.withLock { $0 += 1 } }, onFailure: { _ in Issue.record("no failure expected") }) }
        // A guard against a hang only, as in `runSweepsRepeatedlyUntilCancelled`: 20 s was too short
        // once, on a slow host while the whole suite ran (one round in 20 s).
        let deadline = ContinuousClock.now + .seconds(120)
        while skips.withLock({ $0 }) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await task.value
        #expect(skips.withLock { $0 } >= 2, "each skipped round is reported, and the next round still comes")
    }

    @Test func runSweepsRepeatedlyUntilCancelled() async throws {
        let store = RecordingExpiredRowStore(answer: RemovedRows())
        let now = self.now
        let janitor = Janitor(store: store, interval: .milliseconds(5), accessTokenTTL: 900, keepDecisions: 10,
                              metrics: PortcullisMetrics(factory: RecordingMetrics()), clock: { now })
        let task = Task { await janitor.run() }
        // A guard against a hang only: while the whole suite runs, every cooperative thread can be
        // busy for half a minute on two cores, and the sweeps wait for one like everything else.
        let deadline = ContinuousClock.now + .seconds(120)
        while store.cutoffs.withLock({ $0.count }) < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        await task.value
        let swept = store.cutoffs.withLock { $0.count }
        #expect(swept >= 3)
        try await Task.sleep(for: .milliseconds(50))
        #expect(store.cutoffs.withLock { $0.count } == swept, "no sweep after cancellation")
    }

    @Test func theIntervalIsConfigurable() throws {
        var configuration = PortcullisConfiguration()
        #expect(configuration.janitorInterval == 300)
        try configuration.apply(key: "PORTCULLIS_JANITOR_INTERVAL", value: "60")
        #expect(configuration.janitorInterval == 60)
        #expect(throws: PortcullisError.self) { try configuration.apply(key: "PORTCULLIS_JANITOR_INTERVAL", value: "0") }
    }
}
