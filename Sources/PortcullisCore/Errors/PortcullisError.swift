/// Every failure a client or operator can cause, each with one stable error code.
///
/// The server maps each case to one HTTP status and the JSON shape
/// `{"error": CODE, "error_description": TEXT}`; the CLI prints the description.
public enum PortcullisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request is malformed or misses a field.
    case invalidRequest(String)
    /// Wrong username or password; deliberately says nothing about which.
    case invalidCredentials
    /// A token that is not a valid, live token of ours.
    case invalidToken(String)
    /// A refresh token that was already used: its family is now revoked.
    case refreshTokenReused
    /// A grant (refresh token) presented where it does not belong; nothing was consumed.
    case invalidGrant(String)
    /// A wrong, reused or expired one-time code at the second login step.
    case invalidCode
    /// Too many failures: try again after the given number of seconds.
    case throttled(retryAfter: Int)
    /// The caller is authenticated but not allowed to do this.
    case forbidden(String)
    /// The named thing does not exist.
    case notFound(String)
    /// The named thing exists already.
    case conflict(String)
    /// The request body is larger than the limit.
    case payloadTooLarge
    /// A server-side fault that is not the caller's doing.
    case internalFailure(String)
    /// The database cannot be reached now; the request changed nothing and may be retried.
    case unavailable(String)

    /// The stable machine-readable code (`error` member of the JSON body).
    public var code: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .invalidCredentials: "invalid_credentials"
        case .invalidToken: "invalid_token"
        case .refreshTokenReused, .invalidGrant: "invalid_grant"
        case .invalidCode: "invalid_code"
        case .throttled: "too_many_requests"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .payloadTooLarge: "payload_too_large"
        case .internalFailure: "server_error"
        case .unavailable: "temporarily_unavailable"
        }
    }

    /// Human-readable text (`error_description` member of the JSON body).
    public var description: String {
        switch self {
        case .invalidRequest(let text): text
        case .invalidCredentials: "invalid username or password"
        case .invalidToken(let text): text
        case .refreshTokenReused: "refresh token was already used; its session is revoked"
        case .invalidGrant(let text): text
        case .invalidCode: "invalid or already used code"
        case .throttled(let seconds): "too many failed attempts; retry after \(seconds) s"
        case .forbidden(let text): text
        case .notFound(let text): text
        case .conflict(let text): text
        case .payloadTooLarge: "request body too large"
        case .internalFailure: "internal server error"
        case .unavailable: "the database is unavailable; retry shortly"
        }
    }
}
