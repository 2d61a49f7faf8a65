import CoreMetrics
import Foundation
import PortcullisCore
import Synchronization
import Testing

/// Every counter and timer a `PortcullisMetrics` asks for, with what was counted and timed in each,
/// by label and dimensions. Each `make` hands out a new handler, as a factory may.
final class RecordingMetrics: MetricsFactory, Sendable {
    struct Series: Equatable {
        var made = 0
        var total: Int64 = 0
        var timings = 0
    }

    let series = Mutex<[String: Series]>([:])

    final class Handler: CounterHandler, TimerHandler, Sendable {
        let key: String
        let owner: RecordingMetrics
        init(key: String, owner: RecordingMetrics) { self.key = key; self.owner = owner }
        func increment(by amount: Int64) { owner.series.withLock { $0[key]!.total += amount } }
        func recordNanoseconds(_ duration: Int64) { owner.series.withLock { $0[key]!.timings += 1 } }
        func reset() {}
    }

    private func make(_ label: String, _ dimensions: [(String, String)]) -> Handler {
        let key = label + dimensions.map { "{\($0.0)=\($0.1)}" }.joined()
        series.withLock { $0[key, default: Series()].made += 1 }
        return Handler(key: key, owner: self)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { make(label, dimensions) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { make(label, dimensions) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

@Suite struct RouteRequestSeriesTests {
    static let verify = "portcullis_http_requests_total{method=POST}{route=/v1/token/verify}"
    static let verifyDurations = "portcullis_http_request_duration_seconds{method=POST}{route=/v1/token/verify}"

    /// A route's series is one object per method and route; it registers its histogram and its
    /// `200` counter when made, any other status's counter at that status's first request, and each
    /// once however many requests follow.
    @Test func aRoutesSeriesIsFoundOnceAndRegistersEachCounterOnce() {
        let factory = RecordingMetrics()
        let metrics = PortcullisMetrics(factory: factory)
        let series = metrics.requestSeries(method: "POST", route: "/v1/token/verify")
        #expect(metrics.requestSeries(method: "POST", route: "/v1/token/verify") === series)
        #expect(metrics.requestSeries(method: "GET", route: "/v1/token/verify") !== series, "the method is part of the series")
        #expect(metrics.requestSeries(method: "POST", route: "/v1/authorize") !== series)
        #expect(factory.series.withLock { $0 }.filter { $0.key.contains("{method=POST}{route=/v1/token/verify}") }
                == [Self.verify + "{status=200}": .init(made: 1), Self.verifyDurations: .init(made: 1)], "made with the series, at zero")

        for _ in 0..<3 { series.record(status: 200, duration: .microseconds(40)) }
        series.record(status: 400, duration: .microseconds(40))
        metrics.request(method: "POST", route: "/v1/token/verify", status: 400, duration: .microseconds(40))
        metrics.request(method: "POST", route: "/v1/token/verify", status: 200, duration: .microseconds(40))

        let recorded = factory.series.withLock { $0 }
        #expect(recorded[Self.verify + "{status=200}"] == .init(made: 1, total: 4))
        #expect(recorded[Self.verify + "{status=400}"] == .init(made: 1, total: 2))
        #expect(recorded[Self.verifyDurations] == .init(made: 1, timings: 6))
        #expect(recorded.keys.filter { $0.contains("{method=POST}{route=/v1/token/verify}") }.count == 3, "\(recorded.keys)")
    }

    /// Requests recorded from many threads at once, most of them the lock-free success, are all
    /// counted, each under its own status.
    @Test func requestsRecordedConcurrentlyAreAllCounted() async {
        let factory = RecordingMetrics()
        let metrics = PortcullisMetrics(factory: factory)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    let series = metrics.requestSeries(method: "POST", route: "/v1/token/verify")
                    for request in 0..<2_000 {
                        series.record(status: request % 10 == worker ? 401 : 200, duration: .microseconds(request))
                    }
                }
            }
        }
        let recorded = factory.series.withLock { $0 }
        #expect(recorded[Self.verify + "{status=200}"].map(\.total) == Int64(8 * 1_800))
        #expect(recorded[Self.verify + "{status=401}"] == .init(made: 1, total: 8 * 200))
        #expect(recorded[Self.verifyDurations].map(\.timings) == 8 * 2_000)
    }
}
