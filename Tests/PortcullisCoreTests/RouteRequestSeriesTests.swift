import CoreMetrics
import Foundation
import PortcullisCore
import Synchronization
import Testing

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
        #expect(factory.made.withLock { $0 }.filter { $0.key.contains("{method=POST}{route=/v1/token/verify}") }
                == [Self.verify + "{status=200}": 1, Self.verifyDurations: 1], "made with the series")
        #expect(factory.counts.withLock { $0 }.isEmpty, "at zero")

        for _ in 0..<3 { series.record(status: 200, duration: .microseconds(40)) }
        series.record(status: 400, duration: .microseconds(40))
        // Found again by method and route, as the router's requests find it.
        metrics.requestSeries(method: "POST", route: "/v1/token/verify").record(status: 400, duration: .microseconds(40))
        metrics.requestSeries(method: "POST", route: "/v1/token/verify").record(status: 200, duration: .microseconds(40))

        let made = factory.made.withLock { $0 }
        #expect(made.filter { $0.key.contains("{method=POST}{route=/v1/token/verify}") }
                == [Self.verify + "{status=200}": 1, Self.verify + "{status=400}": 1, Self.verifyDurations: 1])
        #expect(factory.counts.withLock { $0 } == [Self.verify + "{status=200}": 4, Self.verify + "{status=400}": 2])
        #expect(factory.timings.withLock { $0 } == [Self.verifyDurations: 6])
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
        #expect(factory.counts.withLock { $0 } == [Self.verify + "{status=200}": 8 * 1_800, Self.verify + "{status=401}": 8 * 200])
        #expect(factory.made.withLock { $0[Self.verify + "{status=401}"] } == 1)
        #expect(factory.timings.withLock { $0 } == [Self.verifyDurations: 8 * 2_000])
    }
}
