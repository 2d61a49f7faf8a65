import Foundation
public import Hummingbird
import Logging
public import PortcullisCore

/// Turns every error into the one JSON shape `{"error", "error_description"}`.
///
/// Also answers 405 (not 404) when the path exists under another method, and keeps
/// anything unexpected a logged 500 that reveals nothing.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let knownPaths: Set<String>

    /// `knownPaths`: every route path, to tell 404 from 405.
    public init(knownPaths: Set<String>) {
        self.knownPaths = knownPaths
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PortcullisError {
            if case .internalFailure(let detail) = error {
                context.logger.error("internal failure", metadata: ["detail": "\(detail)"])
            }
            return Self.response(for: error)
        } catch let error as OAuthError {
            // RFC 6749 section 5.2: 400, or 401 for invalid_client (with a challenge for Basic).
            var response = Self.response(status: error.code == .invalidClient ? .unauthorized : .badRequest,
                                         code: error.code.rawValue, description: error.description)
            if error.code == .invalidClient { response.headers[.wwwAuthenticate] = "Basic realm=\"portcullis\"" }
            response.headers[.init("Pragma")!] = "no-cache"
            return response
        } catch let error as any HTTPResponseError {
            // Hummingbird's own errors (404, 413, decoding 400s) and NIO's body limit.
            let message = (error as? HTTPError)?.body
            return Self.response(for: Self.translate(status: error.status, message: message, path: request.uri.path, knownPaths: knownPaths))
        } catch is DecodingError {
            return Self.response(for: .invalidRequest("request body is not valid JSON of the expected shape"))
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return Self.response(for: .internalFailure("unhandled"))
        }
    }

    static func translate(status: HTTPResponse.Status, message: String?, path: String, knownPaths: Set<String>) -> (HTTPResponse.Status, String, String) {
        switch status {
        case .notFound where knownPaths.contains(path):
            return (.methodNotAllowed, "method_not_allowed", "method not allowed on \(path)")
        case .notFound:
            return (.notFound, "not_found", "no such endpoint")
        case .contentTooLarge:
            return (.contentTooLarge, "payload_too_large", "request body too large")
        case .badRequest:
            return (.badRequest, "invalid_request", message ?? "malformed request")
        default:
            return (status, "invalid_request", message ?? status.reasonPhrase)
        }
    }

    /// The response for a Portcullis error.
    public static func response(for error: PortcullisError) -> Response {
        var response = Self.response(status: Self.status(of: error), code: error.code, description: error.description)
        switch error {
        case .throttled(let seconds):
            response.headers[.retryAfter] = String(seconds)
        case .invalidToken, .invalidCredentials, .refreshTokenReused, .invalidGrant:
            response.headers[.wwwAuthenticate] = "Bearer"
        default:
            break
        }
        return response
    }

    static func response(for translated: (HTTPResponse.Status, String, String)) -> Response {
        Self.response(status: translated.0, code: translated.1, description: translated.2)
    }

    /// The HTTP status of each error.
    public static func status(of error: PortcullisError) -> HTTPResponse.Status {
        switch error {
        case .invalidRequest: .badRequest
        case .invalidCredentials, .invalidToken, .refreshTokenReused, .invalidGrant, .invalidCode: .unauthorized
        case .throttled: .tooManyRequests
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .internalFailure: .internalServerError
        }
    }

    static func response(status: HTTPResponse.Status, code: String, description: String) -> Response {
        let body = ErrorBody(error: code, errorDescription: description)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data(#"{"error":"server_error"}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct ErrorBody: Encodable {
    let error: String
    let errorDescription: String

    enum CodingKeys: String, CodingKey {
        case error
        case errorDescription = "error_description"
    }
}
