import Foundation
import Hummingbird
import Logging
import PortcullisCore
import Synchronization

/// Turns every error into the one JSON shape `{"error", "error_description"}`.
///
/// Errors that know their HTTP face (`HTTPResponseError`: ours and Hummingbird's) give their own
/// response, Hummingbird's in our shape; a 404 for a path the router knows under other methods
/// becomes 405 with `Allow` (RFC 9110 section 15.5.6); anything else is a logged 500 that reveals nothing.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PortcullisError {
            switch error {
            case .internalFailure(let detail): context.logger.error("internal failure", metadata: ["detail": "\(detail)"])
            case .unavailable(let detail): context.logger.warning("database unavailable", metadata: ["detail": "\(detail)"])
            default: break
            }
            return try error.response(from: request, context: context)
        } catch let error as OAuthError {
            return try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own errors (404, 413, decoding 400s) and NIO's body limit.
            return translate(status: error.status, message: (error as? HTTPError)?.body, path: request.uri.path)
        } catch is DecodingError {
            return PlainResponse.error("invalid_request", "request body is not valid JSON of the expected shape", status: .badRequest).response
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return try PortcullisError.internalFailure("unhandled").response(from: request, context: context)
        }
    }

    func translate(status: HTTPResponse.Status, message: String?, path: String) -> Response {
        switch status {
        case .notFound:
            let allowed = routes.methods(of: path)
            guard !allowed.isEmpty else { return PlainResponse.error("not_found", "no such endpoint", status: .notFound).response }
            return PlainResponse.error("method_not_allowed", "method not allowed on \(path)", status: .methodNotAllowed,
                                       headers: [("Allow", allowed.map(\.rawValue).joined(separator: ", "))]).response
        case .contentTooLarge:
            return PlainResponse.error("payload_too_large", "request body too large", status: .contentTooLarge).response
        default:
            return PlainResponse.error("invalid_request", message ?? (status == .badRequest ? "malformed request" : status.reasonPhrase), status: status).response
        }
    }
}

/// The router's own route table (`Router.routes`), read once every route is registered: which
/// methods each path answers, so an unrouted request is 405 or 404 from the same source of truth.
final class RouteTable: Sendable {
    private let entries = Mutex<[(path: RouterPath, methods: [HTTPRequest.Method])]>([])

    /// Records the router's routes; call after the last route is added.
    func load(_ routes: [Router<some RequestContext>.RouteDescription]) {
        var methods: [String: (RouterPath, [HTTPRequest.Method])] = [:]
        for route in routes { methods[route.path.description, default: (route.path, [])].1.append(route.method) }
        let loaded = methods.values.map { (path: $0.0, methods: $0.1.sorted { $0.rawValue < $1.rawValue }) }
        entries.withLock { $0 = loaded }
    }

    /// The methods `path` answers, matched segment by segment as the router does (empty for an
    /// unknown path). Where several routes match, the router takes the one whose constant segments
    /// come first (`/v1/me/webauthn/register` before `/v1/me/webauthn/{id}`), and so does this.
    func methods(of path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return entries.withLock { entries in
            entries.filter { entry in
                entry.path.components.count == segments.count && zip(entry.path.components, segments).allSatisfy { $0 ~= $1 }
            }.max { Self.specificity($0.path).lexicographicallyPrecedes(Self.specificity($1.path)) }?.methods ?? []
        }
    }

    /// Per segment, 1 for a constant and 0 for a capture or wildcard (`{id}`, `:id`, `*`, `**`),
    /// read off the segment's description (its kind is not public).
    private static func specificity(_ path: RouterPath) -> [Int] {
        path.components.map { component in
            let text = "\(component)"
            return text.hasPrefix("{") || text.hasPrefix(":") || text.contains("*") ? 0 : 1
        }
    }
}
