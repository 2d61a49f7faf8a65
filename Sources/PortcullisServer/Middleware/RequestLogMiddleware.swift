import Foundation
public import Hummingbird
import HTTPTypes
import Logging
public import PortcullisCore
import PortcullisCrypto

/// One log line per request (request id, method, path, status, latency, client address) and an
/// `X-Request-Id` on every response: the caller's if it sent a sane one, else a new random id.
///
/// Only the path is logged, never the query string, headers or body: authorization requests carry
/// codes and states in the query, and bodies carry passwords and tokens.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = PortcullisRequestContext

    static let header = HTTPField.Name("X-Request-Id")!

    let metrics: PortcullisMetrics

    /// Logs every request and counts it in `metrics`.
    public init(metrics: PortcullisMetrics) {
        self.metrics = metrics
    }

    /// The caller's id when it is 1–128 characters of `[A-Za-z0-9._:-]`, else nil.
    package static func acceptable(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ byte in
                  (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || [0x2E, 0x5F, 0x3A, 0x2D].contains(byte)
              }) else { return nil }
        return value
    }

    /// Microseconds as milliseconds with two decimals ("12.34"), without Foundation's formatter.
    static func milliseconds(_ microseconds: Int64) -> String {
        let hundredths = (microseconds + 5) / 10
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = Self.acceptable(request.headers[Self.header]) ?? SecureRandom.token(byteCount: 12)
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        let metrics = self.metrics
        let log = { (status: Int) in
            let elapsed = ContinuousClock.now - started
            // The route pattern, never the concrete path: bounded label values.
            metrics.request(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status, duration: elapsed)
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            context.logger.info("request", metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path), "status": .stringConvertible(status),
                "latency_ms": .string(Self.milliseconds(microseconds)), "client": .string(context.clientAddress),
            ])
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
