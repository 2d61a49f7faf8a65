public import Hummingbird
public import NIOCore
public import Foundation

/// The request context every route starts with: the client's address, a 64 KiB body limit, and
/// what the bearer middleware found in `Authorization`.
public struct PortcullisRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Largest request body decoded, in bytes (docs/API.md).
    public static let bodyLimit = 64 * 1024

    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connected peer, nil in router tests.
    public let remoteAddress: SocketAddress?
    /// The well-formed bearer token of `Authorization: Bearer …`; set by `BearerTokenMiddleware`
    /// on the routes that take one, not yet verified.
    public var bearerToken: String?
    /// The verified holder of the bearer token; set by `AccountAuthenticator`.
    public var principal: AccountPrincipal?
    /// The client's IP address as text, or `unknown`: the peer's, or the one a trusted proxy
    /// forwarded (set by `ClientAddressMiddleware`, before any other middleware).
    public internal(set) var clientAddress: String

    /// Creates the context for one request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// JSON responses with sorted keys (identical answers are identical bytes) and unescaped slashes:
    /// one encoder for every response (its options never change; encoding keeps no state in it).
    public var responseEncoder: JSONEncoder { Self.sharedEncoder }

    private static let sharedEncoder = jsonEncoder()

    /// The encoder of every JSON response body.
    static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// Bodies beyond this get 413.
    public var maxUploadSize: Int { Self.bodyLimit }
}
