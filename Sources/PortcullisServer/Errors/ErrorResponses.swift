import Foundation
public import Hummingbird
public import PortcullisCore

/// The one JSON error shape, `{"error": CODE, "error_description": TEXT}`, with `no-store`.
struct ErrorBody: Encodable {
    let error: String
    let errorDescription: String

    enum CodingKeys: String, CodingKey {
        case error
        case errorDescription = "error_description"
    }

    /// The response carrying this body.
    func response(status: HTTPResponse.Status, headers extra: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data(#"{"error":"server_error"}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Portcullis's errors know their HTTP face (Core knows no HTTP, so it is given here).
extension PortcullisError: HTTPResponseError {
    /// The HTTP status of each error.
    public var status: HTTPResponse.Status {
        switch self {
        case .invalidRequest: .badRequest
        case .invalidCredentials, .invalidToken, .refreshTokenReused, .invalidGrant, .invalidCode: .unauthorized
        case .throttled: .tooManyRequests
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .internalFailure: .internalServerError
        case .unavailable: .serviceUnavailable
        }
    }

    /// The JSON error, with `Retry-After` when throttled and a `Bearer` challenge for token errors.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [:]
        switch self {
        case .throttled(let seconds): headers[.retryAfter] = String(seconds)
        case .unavailable: headers[.retryAfter] = "1"
        case .invalidToken, .invalidCredentials, .refreshTokenReused, .invalidGrant: headers[.wwwAuthenticate] = "Bearer"
        default: break
        }
        return ErrorBody(error: code, errorDescription: description).response(status: status, headers: headers)
    }
}

/// RFC 6749 section 5.2 errors: 400, or 401 for `invalid_client` with a Basic challenge.
extension OAuthError: HTTPResponseError {
    /// 401 for `invalid_client`, else 400.
    public var status: HTTPResponse.Status { code == .invalidClient ? .unauthorized : .badRequest }

    /// The JSON error with `Pragma: no-cache`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.init("Pragma")!: "no-cache"]
        if code == .invalidClient { headers[.wwwAuthenticate] = "Basic realm=\"portcullis\"" }
        return ErrorBody(error: code.rawValue, errorDescription: description).response(status: status, headers: headers)
    }
}
