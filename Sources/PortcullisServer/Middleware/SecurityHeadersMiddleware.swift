public import Hummingbird
import HTTPTypes

/// Adds `SecurityHeaders` to every router response (the hot path adds the same list): no caching
/// of tokens unless the route set a policy, no sniffing, no framing, no referrer.
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    private static var fields: [HTTPField] {
        SecurityHeaders.fields.map { HTTPField(name: HTTPField.Name($0.name)!, value: $0.value) }
    }
    private let fields = Self.fields

    /// Creates the middleware.
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = SecurityHeaders.defaultCacheControl }
        for field in fields { response.headers[field.name] = field.value }
        return response
    }
}
