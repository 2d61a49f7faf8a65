import Foundation
public import Hummingbird
import Synchronization

/// Bounds the work the server takes on: at most `limit` requests at once; the rest get 503 with
/// `Retry-After: 1` straight away, costing nothing beyond their connection.
///
/// With HTTP/1.1 a connection carries one request at a time, so the global cap bounds each
/// connection too. Bodies are capped at 64 KiB by the request context, headers by the HTTP
/// decoder configuration, and silent connections by the idle timeout (see `buildApplication`).
public struct LoadSheddingMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int
    let inFlight = InFlightCounter()

    /// At most `limit` concurrent requests.
    public init(limit: Int) {
        self.limit = limit
    }

    final class InFlightCounter: Sendable {
        let value = Atomic<Int>(0)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard inFlight.value.add(1, ordering: .relaxed).newValue <= limit else {
            inFlight.value.subtract(1, ordering: .relaxed)
            let body = #"{"error":"temporarily_unavailable","error_description":"the server is at capacity; retry shortly"}"#
            return Response(status: .serviceUnavailable, headers: [.contentType: "application/json", .retryAfter: "1", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        defer { inFlight.value.subtract(1, ordering: .relaxed) }
        return try await next(request, context)
    }
}
