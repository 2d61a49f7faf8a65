public import Hummingbird
import HTTPTypes

/// Sets `clientAddress` from `X-Forwarded-For` / `Forwarded` when the peer is a trusted proxy
/// (`ClientAddressResolver`); otherwise leaves the peer's address. The one reader of those headers.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = PortcullisRequestContext

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwarded = HTTPField.Name("Forwarded")!

    let resolver: ClientAddressResolver

    /// Resolves every request's client with `resolver`.
    public init(resolver: ClientAddressResolver) {
        self.resolver = resolver
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Nothing to read when no proxy is trusted: the peer's address stands.
        guard !resolver.trustedProxies.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = resolver.clientAddress(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: Self.forwardedFor],
            forwarded: request.headers[values: Self.forwarded])
        return try await next(request, context)
    }
}
