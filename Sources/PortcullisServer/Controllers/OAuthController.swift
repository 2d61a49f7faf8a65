import Foundation
public import Hummingbird
public import PortcullisCore
import PortcullisCrypto

/// The machine side of the OAuth provider: token, revocation (RFC 7009), introspection (RFC 7662),
/// userinfo, and discovery (RFC 8414, OIDC Discovery).
public struct OAuthController: Sendable {
    let oauth: OAuthProvider
    let issuer: String

    /// A controller over `oauth` for tokens of `issuer`.
    public init(oauth: OAuthProvider, issuer: String) {
        self.oauth = oauth
        self.issuer = issuer
    }

    /// Adds the routes to `router`.
    public func addRoutes(to router: Router<PortcullisRequestContext>) {
        router.post("/oauth2/token", use: token)
        router.post("/oauth2/revoke", use: revoke)
        router.post("/oauth2/introspect", use: introspect)
        router.get("/oauth2/userinfo", use: userinfo)
        router.post("/oauth2/userinfo", use: userinfo)
        router.get("/.well-known/openid-configuration", use: discovery)
        router.get("/.well-known/oauth-authorization-server", use: discovery)
    }

    /// Client credentials from `Authorization: Basic` (RFC 6749 section 2.3.1: form-encoded parts) or the body.
    static func credentials(_ request: Request, form: FormParameters) throws(OAuthError) -> ClientCredentials {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") {
            guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                  let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":"),
                  let id = FormParameters.decode(text[..<colon]), let secret = FormParameters.decode(text[text.index(after: colon)...]) else {
                throw OAuthError(.invalidClient, "malformed Basic credentials")
            }
            guard form["client_secret"] == nil, form["client_id"] == nil || form["client_id"] == id else {
                throw OAuthError(.invalidRequest, "use one client authentication method")
            }
            return ClientCredentials(clientID: id, secret: secret, viaBasic: true)
        }
        return ClientCredentials(clientID: form["client_id"], secret: form["client_secret"], viaBasic: false)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store", .init("Pragma")!: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// The typed token request of a form; an unknown `grant_type` is `unsupported_grant_type`.
    static func tokenRequest(_ form: FormParameters) throws(OAuthError) -> TokenRequest {
        guard let name = form["grant_type"] else { throw OAuthError(.invalidRequest, "grant_type is required") }
        guard let grantType = GrantType(rawValue: name) else { throw OAuthError(.unsupportedGrantType, "unsupported grant_type") }
        return TokenRequest(
            grantType: grantType, code: form["code"], redirectURI: form["redirect_uri"], codeVerifier: form["code_verifier"],
            refreshToken: form["refresh_token"], scope: form["scope"].map(Scope.init(parsing:)), resources: form.resources)
    }

    @Sendable func token(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form = try await FormParameters.body(of: request, context: context)
        let client = try await oauth.clients.authenticate(try Self.credentials(request, form: form), remoteAddress: context.clientAddress)
        let tokenRequest = try Self.tokenRequest(form)
        return try Self.json(try await oauth.tokenEndpoint.token(tokenRequest, client: client, remoteAddress: context.clientAddress))
    }

    @Sendable func revoke(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form = try await FormParameters.body(of: request, context: context)
        let client = try await oauth.clients.authenticate(try Self.credentials(request, form: form), remoteAddress: context.clientAddress)
        guard let token = form["token"] else { throw OAuthError(.invalidRequest, "token is required") }
        try await oauth.introspection.revoke(client: client, token: token, remoteAddress: context.clientAddress)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    @Sendable func introspect(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form = try await FormParameters.body(of: request, context: context)
        let client = try await oauth.clients.authenticate(try Self.credentials(request, form: form), remoteAddress: context.clientAddress, allowPublic: false)
        guard let token = form["token"] else { throw OAuthError(.invalidRequest, "token is required") }
        return try Self.json(try await oauth.introspection.introspect(client: client, token: token) ?? ["active": .bool(false)])
    }

    @Sendable func userinfo(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"\(issuer)\"", .cacheControl: "no-store"])
        }
        do {
            return try Self.json(try await oauth.introspection.userinfo(accessToken: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)))
        } catch let error as OAuthError {
            let insufficient = error.code == .insufficientScope
            return Response(status: insufficient ? .forbidden : .unauthorized, headers: [
                .wwwAuthenticate: "Bearer realm=\"\(issuer)\", error=\"\(insufficient ? "insufficient_scope" : "invalid_token")\"",
                .cacheControl: "no-store",
            ])
        }
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
        let acr_values_supported = ["urn:portcullis:acr:pwd", "urn:portcullis:acr:mfa"]
        let prompt_values_supported = ["none", "login", "consent", "select_account"]
        let claims_parameter_supported = false
        let request_parameter_supported = false
        let request_uri_parameter_supported = false
        let authorization_response_iss_parameter_supported = true
        let ui_locales_supported = ["en"]
    }

    @Sendable func discovery(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        var response = try Self.json(Discovery(
            issuer: issuer, authorization_endpoint: issuer + "/oauth2/authorize", token_endpoint: issuer + "/oauth2/token",
            userinfo_endpoint: issuer + "/oauth2/userinfo", jwks_uri: issuer + "/.well-known/jwks.json",
            revocation_endpoint: issuer + "/oauth2/revoke", introspection_endpoint: issuer + "/oauth2/introspect",
            end_session_endpoint: issuer + "/oauth2/logout"))
        response.headers[.cacheControl] = "public, max-age=300"
        return response
    }
}
