import Foundation
import Hummingbird
import PortcullisCore
import PortcullisCrypto

/// The discovery document under `/.well-known/` (RFC 8414, OIDC Discovery 1.0), cacheable. The
/// JWKS (RFC 7517) beside it is a hot route (`HotRoutes`).
package struct WellKnownController: Sendable {
    let issuer: String

    /// Both discovery names.
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.get("/.well-known/openid-configuration", use: discovery)
        routes.get("/.well-known/oauth-authorization-server", use: discovery)
        return routes
    }

    /// Every endpoint and capability; clients configure themselves from this alone.
    struct Discovery: Encodable {
        let issuer: String
        let authorization_endpoint: String
        let token_endpoint: String
        let userinfo_endpoint: String
        let jwks_uri: String
        let revocation_endpoint: String
        let introspection_endpoint: String
        let end_session_endpoint: String
        let scopes_supported = OAuthProvider.standardScopes
        let response_types_supported = ["code"]
        let response_modes_supported = ["query"]
        let grant_types_supported = GrantType.allCases.map(\.rawValue)
        let subject_types_supported = ["public"]
        let id_token_signing_alg_values_supported = JWSAlgorithm.allCases.map(\.rawValue)
        let token_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post", "none"]
        let revocation_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post", "none"]
        let introspection_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post"]
        let code_challenge_methods_supported = ["S256"]
        let claims_supported = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "acr", "azp",
                                "preferred_username", "name", "email", "email_verified", "updated_at"]
        let acr_values_supported = AuthenticationContext.all
        let prompt_values_supported = ["none", "login", "consent", "select_account"]
        let claims_parameter_supported = false
        let request_parameter_supported = false
        let request_uri_parameter_supported = false
        let authorization_response_iss_parameter_supported = true
        let ui_locales_supported = ["en"]
    }

    @Sendable func discovery(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        var response = try OAuthController.json(Discovery(
            issuer: issuer, authorization_endpoint: issuer + "/oauth2/authorize", token_endpoint: issuer + "/oauth2/token",
            userinfo_endpoint: issuer + "/oauth2/userinfo", jwks_uri: issuer + "/.well-known/jwks.json",
            revocation_endpoint: issuer + "/oauth2/revoke", introspection_endpoint: issuer + "/oauth2/introspect",
            end_session_endpoint: issuer + "/oauth2/logout"))
        response.headers[.cacheControl] = "public, max-age=300"
        return response
    }
}
