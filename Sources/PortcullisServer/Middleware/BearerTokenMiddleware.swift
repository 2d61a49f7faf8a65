import Foundation
package import Hummingbird
package import PortcullisCore

/// Reads `Authorization: Bearer TOKEN` (RFC 6750 section 2.1) into `context.bearerToken`, the one
/// place that parses the header. Another scheme leaves it nil; a malformed bearer header is 401.
package struct BearerTokenMiddleware: RouterMiddleware {
    package typealias Context = PortcullisRequestContext

    /// Longest token accepted, in bytes (a token is a few KiB).
    static let maxTokenSize = 16 * 1024

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.bearerToken = try Self.token(in: request.headers[.authorization])
        return try await next(request, context)
    }

    /// The token of a bearer header; nil for no header or another scheme.
    package static func token(in header: String?) throws(PortcullisError) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard let scheme = parts.first, scheme.lowercased() == "bearer" else { return nil }
        let token = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        guard !token.isEmpty, token.utf8.count <= maxTokenSize else {
            throw PortcullisError.invalidToken("malformed Authorization header")
        }
        return token
    }
}

/// Verifies the bearer token of the account API and puts its holder in `context.principal`:
/// a live user token whose `aud` holds the issuer (a first-party token), else 401.
struct AccountAuthenticator: RouterMiddleware {
    typealias Context = PortcullisRequestContext
    let auth: AuthService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = context.bearerToken else { throw PortcullisError.invalidToken("missing bearer token") }
        let (user, claims) = try await auth.authenticate(bearer: token)
        var context = context
        context.principal = AccountPrincipal(user: user, claims: claims)
        return try await next(request, context)
    }
}
