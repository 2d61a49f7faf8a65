public import Hummingbird
public import NIOCore
public import Foundation

/// The request context of every Portcullis route: the client's address and a 64 KiB body limit.
public struct PortcullisRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Largest request body decoded, in bytes (DESIGN.md section 10).
    public static let bodyLimit = 64 * 1024

    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connected peer, nil in router tests.
    public let remoteAddress: SocketAddress?

    /// Creates the context for one request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// JSON responses with sorted keys (identical answers are identical bytes) and unescaped slashes.
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// Bodies beyond this get 413.
    public var maxUploadSize: Int { Self.bodyLimit }

    /// The client's IP address as text, or `unknown`.
    public var clientAddress: String {
        remoteAddress?.ipAddress ?? "unknown"
    }
}
