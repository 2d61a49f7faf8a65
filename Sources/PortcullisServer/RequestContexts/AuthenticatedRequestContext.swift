public import Hummingbird
public import NIOCore
public import Foundation
public import PortcullisCore

/// The verified holder of a first-party user access token (the account API's caller).
public final class AccountPrincipal: Sendable {
    /// The token's user, as stored now.
    public let user: User
    /// The token's verified claims.
    public let claims: AccessTokenClaims

    /// A principal for `user` holding a token with `claims`.
    public init(user: User, claims: AccessTokenClaims) {
        self.user = user
        self.claims = claims
    }
}

/// The context of the account API (`/v1/me…`): the request context narrowed to one with a
/// verified principal. Making it fails (401) unless `AccountAuthenticator` verified a token first,
/// so a handler cannot run unauthenticated by forgetting a check.
public struct AuthenticatedRequestContext: ChildRequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connected peer, nil in router tests.
    public let remoteAddress: SocketAddress?
    /// The caller.
    public let principal: AccountPrincipal

    /// Narrows `context`; throws `invalidToken` when no principal was verified.
    public init(context: PortcullisRequestContext) throws {
        guard let principal = context.principal else { throw PortcullisError.invalidToken("missing bearer token") }
        self.coreContext = context.coreContext
        self.remoteAddress = context.remoteAddress
        self.clientAddress = context.clientAddress
        self.principal = principal
    }

    /// JSON bodies as every other route writes them.
    public var responseEncoder: JSONEncoder { PortcullisRequestContext.jsonEncoder() }

    /// Bodies beyond this get 413.
    public var maxUploadSize: Int { PortcullisRequestContext.bodyLimit }

    /// The client's IP address as text, or `unknown` (the base context's).
    public let clientAddress: String
}
