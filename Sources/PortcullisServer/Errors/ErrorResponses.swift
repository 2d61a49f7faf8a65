public import Hummingbird
public import PortcullisCore

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

    /// The JSON error, with `Retry-After` when throttled and a `Bearer` challenge for token errors (`plainResponse`).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        plainResponse.response
    }
}

/// RFC 6749 section 5.2 errors: 400, or 401 for `invalid_client` with a Basic challenge.
extension OAuthError: HTTPResponseError {
    /// 401 for `invalid_client`, else 400.
    public var status: HTTPResponse.Status { code == .invalidClient ? .unauthorized : .badRequest }

    /// The JSON error with `Pragma: no-cache` (`plainResponse`).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        plainResponse.response
    }

    /// The JSON error with `Pragma: no-cache`, and a Basic challenge for `invalid_client`: what both paths answer.
    package var plainResponse: PlainResponse {
        var headers: [(name: String, value: String)] = [("Pragma", "no-cache")]
        if code == .invalidClient { headers.append(("WWW-Authenticate", "Basic realm=\"portcullis\"")) }
        return PlainResponse.error(code.rawValue, description, status: status, headers: headers)
    }
}
