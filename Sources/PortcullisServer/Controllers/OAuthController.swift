import Foundation
import Hummingbird
package import PortcullisCore
import PortcullisCrypto

/// The client-authenticated side of the OAuth provider: token (RFC 6749 section 3.2), revocation
/// (RFC 7009) and introspection (RFC 7662).
package struct OAuthController: Sendable {
    let oauth: OAuthProvider

    /// Token and revocation (introspection is a hot route: `HotRoutes`).
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.post("/oauth2/token", use: token)
        routes.post("/oauth2/revoke", use: revoke)
        return routes
    }

    /// Client credentials from `Authorization: Basic` (RFC 6749 section 2.3.1: form-encoded parts) or the body.
    static func credentials(_ request: Request, form: FormParameters) throws(OAuthError) -> ClientCredentials {
        try credentials(authorization: request.headers[.authorization], form: form)
    }

    /// Client credentials from an `Authorization` field or the form.
    static func credentials(authorization: String?, form: FormParameters) throws(OAuthError) -> ClientCredentials {
        if let header = authorization, let encoded = basicCredentials(header) {
            guard let bytes = Base64.decode(padded: ArraySlice(encoded)), let text = String(validating: bytes, as: UTF8.self),
                  let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")),
                  let id = FormParameters.decode(text[..<colon]), let secret = FormParameters.decode(text[text.utf8.index(after: colon)...]) else {
                throw OAuthError(.invalidClient, "malformed Basic credentials")
            }
            guard form["client_secret"] == nil, form["client_id"] == nil || form["client_id"] == id else {
                throw OAuthError(.invalidRequest, "use one client authentication method")
            }
            return ClientCredentials(clientID: id, secret: secret, viaBasic: true)
        }
        return ClientCredentials(clientID: form["client_id"], secret: form["client_secret"], viaBasic: false)
    }

    /// The encoded part of an `Authorization: Basic …` field (scheme matched in any case, spaces
    /// and tabs around it dropped), nil for another scheme. Byte-wise: Foundation's trimming cost
    /// a twentieth of an introspection.
    static func basicCredentials(_ header: String) -> Substring.UTF8View? {
        let scheme = "basic ".utf8
        let utf8 = header.utf8
        guard utf8.count >= scheme.count, zip(utf8, scheme).allSatisfy({ $0 == $1 || ($1 >= UInt8(ascii: "a") && $0 | 0x20 == $1) }) else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var rest = Substring(header).utf8.dropFirst(scheme.count)
        while let first = rest.first, isBlank(first) { rest = rest.dropFirst() }
        while let last = rest.last, isBlank(last) { rest = rest.dropLast() }
        return rest
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store", .init("Pragma")!: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// The typed token request of a form; an unknown `grant_type` is `unsupported_grant_type`.
    package static func tokenRequest(_ form: FormParameters) throws(OAuthError) -> TokenRequest {
        guard let name = form["grant_type"] else { throw OAuthError(.invalidRequest, "grant_type is required") }
        guard let grantType = GrantType(rawValue: name) else { throw OAuthError(.unsupportedGrantType, "unsupported grant_type") }
        return TokenRequest(
            grantType: grantType, code: form["code"], redirectURI: form["redirect_uri"], codeVerifier: form["code_verifier"],
            refreshToken: form["refresh_token"], scope: form["scope"].map(Scope.init(parsing:)), resources: form.resources)
    }

    /// The form of a client's request and the client it authenticates (`allowPublic`: may a public client call?).
    func authenticatedForm(_ request: Request, context: PortcullisRequestContext, allowPublic: Bool = true) async throws -> (FormParameters, OAuthClient) {
        let form = try await FormParameters.body(of: request, limit: context.maxUploadSize)
        let client = try await oauth.clients.authenticate(
            try Self.credentials(request, form: form), remoteAddress: context.clientAddress, allowPublic: allowPublic)
        return (form, client)
    }

    @Sendable func token(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let (form, client) = try await authenticatedForm(request, context: context)
        let tokenRequest = try Self.tokenRequest(form)
        return try Self.json(try await oauth.tokenEndpoint.token(tokenRequest, client: client, remoteAddress: context.clientAddress))
    }

    @Sendable func revoke(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let (form, client) = try await authenticatedForm(request, context: context)
        guard let token = form["token"] else { throw OAuthError(.invalidRequest, "token is required") }
        try await oauth.introspection.revoke(client: client, token: token, remoteAddress: context.clientAddress)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }
}
