import Foundation
public import Hummingbird
import Synchronization

/// Bounds the work the server takes on: at most `limit` requests at once (the rest get 503 with
/// `Retry-After: 1` straight away, costing nothing beyond their connection), and at most `timeout`
/// per request (then 503; the handler is cancelled, which database calls and sleeps honour).
///
/// With HTTP/1.1 a connection carries one request at a time, so the global cap bounds each
/// connection too. Bodies are capped at 64 KiB by the request context, headers by the HTTP
/// decoder configuration, and silent connections by the idle timeout (see `buildApplication`).
public struct LoadSheddingMiddleware<Context: RequestContext>: RouterMiddleware {
    let inFlight: InFlightRequests
    let timeout: Duration
    let deadlines: RequestDeadlines

    /// At most `limit` concurrent requests of at most `timeout` each.
    public init(limit: Int, timeout: Duration) {
        self.init(inFlight: InFlightRequests(limit: limit), deadlines: RequestDeadlines(), timeout: timeout)
    }

    /// At most `inFlight.limit` concurrent requests, counted together with the hot path's, of at
    /// most `timeout` each, watched by `deadlines` (the hot path's too).
    package init(inFlight: InFlightRequests, deadlines: RequestDeadlines, timeout: Duration) {
        self.inFlight = inFlight
        self.deadlines = deadlines
        self.timeout = timeout
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard inFlight.enter() else { return InFlightRequests.unavailable(InFlightRequests.atCapacity).response }
        defer { inFlight.leave() }
        let deadline = ContinuousClock.now + timeout
        let deadlines = self.deadlines
        return try await withoutActuallyEscaping(next) { next in
            // The handler runs in a child task, which the shared watchdog may cancel at its
            // deadline without cancelling the connection's own task; the group does not outlive
            // this call, so `next` never escapes it.
            nonisolated(unsafe) let handler = next
            return try await withThrowingTaskGroup(of: Response.self) { group in
                group.addTask {
                    guard let response = try await deadlines.run(until: deadline, { try await handler(request, context) }) else {
                        throw CancellationError()
                    }
                    return response
                }
                do {
                    return try await group.next()!
                } catch is CancellationError {
                    return InFlightRequests.unavailable(InFlightRequests.tooLong).response
                }
            }
        }
    }
}
