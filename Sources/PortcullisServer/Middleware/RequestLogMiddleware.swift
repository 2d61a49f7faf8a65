import Foundation
public import Hummingbird
import HTTPTypes
import Logging
public import PortcullisCore

/// The router path's request line, metrics and `X-Request-Id` (the caller's if it sent a sane one,
/// else a new id), through the same `RequestIdentifier` and `RequestRecorder` as the hot path.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = PortcullisRequestContext

    static let header = HTTPField.Name(RequestIdentifier.header)!

    let recorder: RequestRecorder

    /// Logs every request and counts it in `metrics`.
    public init(metrics: PortcullisMetrics) {
        self.recorder = RequestRecorder(metrics: metrics)
    }

    /// Logs every request through `recorder` (the hot path's own).
    package init(recorder: RequestRecorder) {
        self.recorder = recorder
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = RequestIdentifier.echoedOrNew(request.headers[Self.header])
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        let recorder = self.recorder
        let log = { (status: Int) in
            // The route pattern, never the concrete path: bounded label values.
            recorder.record(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", path: request.uri.path,
                            status: status, started: started, client: context.clientAddress, requestID: id, logger: context.logger)
        }
        do {
            var response = try await next(request, context)
            response.headers[Self.header] = id
            log(response.status.code)
            return response
        } catch {
            // Errors the inner middleware did not turn into a response (none expected): still one line.
            log((error as? any HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }
}
