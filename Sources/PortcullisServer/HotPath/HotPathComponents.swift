#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
package import Logging
package import NIOCore
import NIOHTTP1
package import PortcullisCore
import Synchronization

/// The hot routes and the per-request components, made once per server and shared by the hot
/// path and the router.
package struct HotPath: Sendable {
    /// The routes answered on the event loop when they can be.
    package let routes: HotRoutes
    /// What both paths apply to every request.
    package let components: HotPathComponents

    /// The hot path of a server over `services`, logging to `logger`.
    package init(services: PortcullisServices, logger: Logger) {
        routes = HotRoutes(services: services, logger: logger)
        components = HotPathComponents(services: services, logger: logger)
    }
}

/// The per-request rules both paths apply, made once per server: the in-flight cap, the request
/// log and metrics, the client-address rule, the server's name. `buildRouter` gives the same
/// instance to the middleware and to every connection's `HotRouteHandler`.
package struct HotPathComponents: Sendable {
    /// The global cap on requests in flight.
    package let inFlight: InFlightRequests
    /// The time limit of each request, and the watchdog that enforces it.
    package let requestTimeout: Duration
    package let deadlines = RequestDeadlines()
    /// The request line and the request metrics.
    package let recorder: RequestRecorder
    /// Who the client is behind trusted proxies.
    package let resolver: ClientAddressResolver
    /// Where the hot path logs (the router path logs to the request's own logger).
    package let logger: Logger
    /// The `Server` header.
    package let serverName: String

    /// The components of a server over `services`.
    package init(services: PortcullisServices, logger: Logger, serverName: String = "Portcullis") {
        inFlight = InFlightRequests(limit: services.configuration.maxConcurrentRequests)
        requestTimeout = .seconds(services.configuration.requestTimeout)
        recorder = RequestRecorder(metrics: services.metrics)
        resolver = ClientAddressResolver(trustedProxies: services.configuration.trustedProxies)
        self.logger = logger
        self.serverName = serverName
    }

    /// The client's address for a request with these headers from `peer`.
    func clientAddress(peer: String?, headers: HTTPHeaders) -> String {
        guard !resolver.trustedProxies.isEmpty else { return peer ?? "unknown" }
        return resolver.clientAddress(peer: peer, forwardedFor: headers[canonicalForm: "x-forwarded-for"].map(String.init),
                                      forwarded: headers["forwarded"])
    }
}

/// One log line and the request metrics per request, for both paths. Only the path is logged,
/// never the query string, headers or body: authorization requests carry codes and states in the
/// query, and bodies carry passwords and tokens.
package struct RequestRecorder: Sendable {
    let metrics: PortcullisMetrics

    /// Records a finished request: its metrics (series made once per route and status) and, at
    /// `info`, its line.
    package func record(method: String, route: String, path: String, status: Int, started: ContinuousClock.Instant,
                        client: String, requestID: String, logger: Logger) {
        record(metrics.requestSeries(method: method, route: route), method: method, path: path, status: status, started: started,
               client: client, requestID: requestID, logger: logger)
    }

    /// Records a finished request of the route whose metrics are `series` (a hot route's, kept).
    package func record(_ series: RouteRequestSeries, method: String, path: String, status: Int, started: ContinuousClock.Instant,
                        client: String, requestID: String, logger: Logger) {
        let elapsed = ContinuousClock.now - started
        series.record(status: status, duration: elapsed)
        guard logger.logLevel <= .info else { return }
        let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        if let handler = logger.handler as? PortcullisLogHandler {
            // The server's own handler: one pass into a reused buffer, one write per event-loop turn.
            handler.logRequest(.init(client: client, latency: Self.milliseconds(microseconds), method: method, path: path,
                                     requestID: requestID, status: status))
            return
        }
        logger.info("request", metadata: [
            "method": .string(method), "path": .string(path), "status": .stringConvertible(status),
            "latency_ms": .string(Self.milliseconds(microseconds)), "client": .string(client), "request_id": .string(requestID),
        ])
    }

    /// Microseconds as milliseconds with two decimals ("12.34"), without Foundation's formatter.
    static func milliseconds(_ microseconds: Int64) -> String {
        let hundredths = (microseconds + 5) / 10
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// The `Date` header (RFC 9110 section 5.6.7), formatted once per second.
enum HTTPDate {
    private static let cached = Mutex<(second: Int, text: String)>((0, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Now, as `Mon, 30 Nov 2026 15:19:48 GMT`.
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &spec)
        let second = spec.tv_sec
        return cached.withLock { cached in
            if cached.second != second { cached = (second, format(second)) }
            return cached.text
        }
    }

    static func format(_ second: Int) -> String {
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
