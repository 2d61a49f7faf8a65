import Foundation
import Hummingbird
import PortcullisCore

/// `/oauth2/userinfo` (OIDC Core section 5.3), registered behind `BearerTokenMiddleware`; errors
/// are the RFC 6750 section 3 challenge, not a JSON body.
package struct UserinfoController: Sendable {
    let oauth: OAuthProvider
    let issuer: String

    /// GET and POST, as OIDC Core requires.
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.get("/oauth2/userinfo", use: userinfo)
        routes.post("/oauth2/userinfo", use: userinfo)
        return routes
    }

    @Sendable func userinfo(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        guard let token = context.bearerToken else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"\(issuer)\"", .cacheControl: "no-store"])
        }
        do {
            return try OAuthController.json(try await oauth.introspection.userinfo(accessToken: token))
        } catch let error as OAuthError {
            let insufficient = error.code == .insufficientScope
            return Response(status: insufficient ? .forbidden : .unauthorized, headers: [
                .wwwAuthenticate: "Bearer realm=\"\(issuer)\", error=\"\(insufficient ? "insufficient_scope" : "invalid_token")\"",
                .cacheControl: "no-store",
            ])
        }
    }
}
