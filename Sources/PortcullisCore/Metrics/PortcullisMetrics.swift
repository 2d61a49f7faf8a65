public import CoreMetrics
public import Foundation
import Synchronization

/// Every metric Portcullis emits, through one swift-metrics factory (Prometheus in the server).
///
/// Names and labels are fixed here, so the exported set is documented in one place:
/// `portcullis_events_total{event}` (each audit event: logins, MFA, tokens, admin changes),
/// `portcullis_tokens_issued_total{grant}`, `portcullis_policy_decisions_total{result}`,
/// `portcullis_policy_reloads_total{result}`, `portcullis_argon2_queue_depth`,
/// `portcullis_argon2_wait_seconds`, `portcullis_http_requests_total{method,route,status}`,
/// `portcullis_http_request_duration_seconds{method,route}` and
/// `portcullis_janitor_rows_removed_total{kind}` (`codes`, `browser_sessions`, `mfa_challenges`,
/// `webauthn_challenges`, `refresh_tokens`, `families`, `revoked_access_tokens`, `decisions`,
/// `address_throttles`),
/// `portcullis_janitor_sweeps_total{result}` (`swept`, `skipped`: another replica held the
/// maintenance lock), `portcullis_policy_info{version}` (1, for the version in force only) and
/// `portcullis_policy_loaded_timestamp_seconds`, and `portcullis_hot_path_requests_total{outcome}`
/// (`answered` on the event loop, or `waited` for a database read or a key reload).
public final class PortcullisMetrics: Sendable {
    let factory: any MetricsFactory
    // Made once here, not per event: their labels are fixed (or, for the policy, change only at a reload).
    private let sweeps: (swept: Counter, skipped: Counter)
    private let policyLoadedAt: Gauge
    private let hotPath: (answered: Counter, waited: Counter)
    private let decisions: (allow: Counter, deny: Counter)
    /// The one `portcullis_policy_info` series, for the version in force.
    private let policyInfo = Mutex<(version: String, gauge: Gauge)?>(nil)

    /// Metrics through `factory`; by default the process-wide one (a no-op unless bootstrapped).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        sweeps = (Counter(label: "portcullis_janitor_sweeps_total", dimensions: [("result", "swept")], factory: factory),
                  Counter(label: "portcullis_janitor_sweeps_total", dimensions: [("result", "skipped")], factory: factory))
        policyLoadedAt = Gauge(label: "portcullis_policy_loaded_timestamp_seconds", factory: factory)
        decisions = (Counter(label: "portcullis_policy_decisions_total", dimensions: [("result", "allow")], factory: factory),
                     Counter(label: "portcullis_policy_decisions_total", dimensions: [("result", "deny")], factory: factory))
        hotPath = (Counter(label: "portcullis_hot_path_requests_total", dimensions: [("outcome", "answered")], factory: factory),
                   Counter(label: "portcullis_hot_path_requests_total", dimensions: [("outcome", "waited")], factory: factory))
    }

    /// A hot route's request was answered on the event loop at once, or had to wait.
    public func hotPathRequest(waited: Bool) {
        (waited ? hotPath.waited : hotPath.answered).increment()
    }

    /// One audit event happened.
    public func event(_ action: String) {
        Counter(label: "portcullis_events_total", dimensions: [("event", action)], factory: factory).increment()
    }

    /// An access token was issued by `grant` (`password`, `refresh_token`, `authorization_code`, `client_credentials`).
    public func tokenIssued(grant: String) {
        Counter(label: "portcullis_tokens_issued_total", dimensions: [("grant", grant)], factory: factory).increment()
    }

    /// A policy decision was made.
    public func decision(allowed: Bool) {
        (allowed ? decisions.allow : decisions.deny).increment()
    }

    /// The policy directory changed: `reloaded` or `rejected`.
    public func policyReload(_ result: String) {
        Counter(label: "portcullis_policy_reloads_total", dimensions: [("result", result)], factory: factory).increment()
    }

    /// Requests waiting for or running on the Argon2 pool.
    public func argon2QueueDepth(_ depth: Int) {
        Gauge(label: "portcullis_argon2_queue_depth", factory: factory).record(depth)
    }

    /// How long a hash waited for a pool thread.
    public func argon2Wait(_ duration: Duration) {
        Timer(label: "portcullis_argon2_wait_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(duration))
    }

    /// The series of one route's requests: one object per method and route pattern (patterns are
    /// a bounded set), made at its first use and kept. A caller that serves the route many times,
    /// such as a hot route, keeps it too (made when the routes are), so a successful request costs
    /// neither a lookup nor a lock.
    public func requestSeries(method: String, route: String) -> RouteRequestSeries {
        routeSeries.withLock { made in
            let key = RouteKey(method: method, route: route)
            if let series = made[key] { return series }
            let series = RouteRequestSeries(method: method, route: route, factory: factory)
            made[key] = series
            return series
        }
    }

    private struct RouteKey: Hashable {
        let method: String
        let route: String
    }

    private let routeSeries = Mutex<[RouteKey: RouteRequestSeries]>([:])

    /// The janitor removed these rows; kinds with none are not touched.
    public func janitorRemoved(_ rows: RemovedRows) {
        for (kind, count) in rows.byKind where count > 0 {
            Counter(label: "portcullis_janitor_rows_removed_total", dimensions: [("kind", kind)], factory: factory).increment(by: count)
        }
    }

    /// One janitor round: swept (its rows counted by kind), or skipped because another replica held the lock.
    public func janitorSweep(_ outcome: SweepOutcome) {
        switch outcome {
        case .swept(let rows):
            sweeps.swept.increment()
            janitorRemoved(rows)
        case .skipped:
            sweeps.skipped.increment()
        }
    }

    /// The policy `version` is in force since `loadedAt` (at start and after each reload): its
    /// `portcullis_policy_info{version}` series is 1 and the previous version's is removed, so a
    /// replica still on an older policy stands out in a query over all replicas.
    public func policyInForce(version: String, loadedAt: Date) {
        policyInfo.withLock { current in
            if current?.version != version {
                current?.gauge.destroy()
                let gauge = Gauge(label: "portcullis_policy_info", dimensions: [("version", version)], factory: factory)
                gauge.record(1)
                current = (version, gauge)
            }
        }
        policyLoadedAt.record(loadedAt.timeIntervalSince1970)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}

/// The request metrics of one method and route: `portcullis_http_request_duration_seconds{method,route}`
/// and `portcullis_http_requests_total{method,route,status}`. The histogram and the `200` counter
/// are registered with the series, so they are exported (at zero) from then on and a success is
/// counted without a lookup; any other status's counter is registered at its first request.
public final class RouteRequestSeries: Sendable {
    private let method: String
    private let route: String
    private let factory: any MetricsFactory
    private let durations: CoreMetrics.Timer
    private let succeeded: Counter
    private let otherStatuses = Mutex<[Int: Counter]>([:])

    init(method: String, route: String, factory: any MetricsFactory) {
        self.method = method
        self.route = route
        self.factory = factory
        durations = Timer(label: "portcullis_http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory)
        succeeded = Self.counter(method: method, route: route, status: 200, factory: factory)
    }

    /// One request of this route answered `status` after `duration`.
    public func record(status: Int, duration: Duration) {
        counter(status).increment()
        durations.recordNanoseconds(PortcullisMetrics.nanoseconds(duration))
    }

    private func counter(_ status: Int) -> Counter {
        if status == 200 { return succeeded }
        return otherStatuses.withLock { made in
            if let counter = made[status] { return counter }
            let counter = Self.counter(method: method, route: route, status: status, factory: factory)
            made[status] = counter
            return counter
        }
    }

    private static func counter(method: String, route: String, status: Int, factory: any MetricsFactory) -> Counter {
        Counter(label: "portcullis_http_requests_total", dimensions: [("method", method), ("route", route), ("status", String(status))],
                factory: factory)
    }
}
