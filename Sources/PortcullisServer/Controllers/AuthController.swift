import Foundation
import Hummingbird
import PortcullisCore

/// `/v1/login`, `/v1/token/refresh`, `/v1/logout`, `/v1/token/verify`.
package struct AuthController: Sendable {
    let auth: AuthService

    /// Login, refresh, logout and verify.
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.post("/v1/login", use: login)
        routes.post("/v1/login/mfa", use: loginMFA)
        routes.post("/v1/token/refresh", use: refresh)
        routes.post("/v1/logout", use: logout)
        routes.post("/v1/token/verify", use: verify)
        return routes
    }

    package struct LoginRequest: Decodable {
        let username: String
        let password: String
    }

    struct MFALoginRequest: Decodable {
        let mfaToken: String
        let code: String
        enum CodingKeys: String, CodingKey {
            case mfaToken = "mfa_token"
            case code
        }
    }

    package struct RefreshRequest: Decodable {
        let refreshToken: String
        enum CodingKeys: String, CodingKey { case refreshToken = "refresh_token" }
    }

    struct VerifyRequest: Decodable {
        let token: String
        /// When given, a token whose `aud` lacks it is inactive, with a reason.
        let audience: String?
    }

    @Sendable func login(_ request: Request, context: PortcullisRequestContext) async throws -> LoginResponse {
        let body = try await request.decode(as: LoginRequest.self, context: context)
        switch try await auth.login(username: body.username, password: body.password, remoteAddress: context.clientAddress) {
        case .tokens(let pair): return .tokens(TokenResponse(pair))
        case .mfaRequired(let token, let methods): return .mfaRequired(token: token, methods: methods)
        }
    }

    @Sendable func loginMFA(_ request: Request, context: PortcullisRequestContext) async throws -> TokenResponse {
        let body = try await request.decode(as: MFALoginRequest.self, context: context)
        return TokenResponse(try await auth.completeLogin(mfaToken: body.mfaToken, code: body.code, remoteAddress: context.clientAddress))
    }

    @Sendable func refresh(_ request: Request, context: PortcullisRequestContext) async throws -> TokenResponse {
        let body = try await request.decode(as: RefreshRequest.self, context: context)
        return TokenResponse(try await auth.refresh(refreshToken: body.refreshToken, remoteAddress: context.clientAddress))
    }

    @Sendable func logout(_ request: Request, context: PortcullisRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: RefreshRequest.self, context: context)
        try await auth.logout(refreshToken: body.refreshToken, remoteAddress: context.clientAddress)
        return .noContent
    }

    @Sendable func verify(_ request: Request, context: PortcullisRequestContext) async throws -> VerifyResponse {
        let body = try await request.decode(as: VerifyRequest.self, context: context)
        guard body.token.utf8.count <= 16 * 1024, (body.audience?.utf8.count ?? 0) <= 2048 else { return VerifyResponse(active: false) }
        switch try await auth.verify(body.token, audience: body.audience) {
        case .active(let claims): return VerifyResponse(claims)
        case .otherAudience(_, let reason):
            var response = VerifyResponse(active: false)
            response.reason = reason
            return response
        case .inactive: return VerifyResponse(active: false)
        }
    }
}

/// Tokens, or `{mfa_required: true, mfa_token, methods}` when a second factor is due.
enum LoginResponse: ResponseEncodable {
    case tokens(TokenResponse)
    case mfaRequired(token: String, methods: [String])

    enum CodingKeys: String, CodingKey {
        case mfaRequired = "mfa_required"
        case mfaToken = "mfa_token"
        case methods
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .tokens(let response):
            try response.encode(to: encoder)
        case .mfaRequired(let token, let methods):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(true, forKey: .mfaRequired)
            try container.encode(token, forKey: .mfaToken)
            try container.encode(methods, forKey: .methods)
        }
    }
}

/// `{access_token, token_type, expires_in, refresh_token, scope}`.
struct TokenResponse: ResponseEncodable {
    let accessToken: String
    let tokenType = "Bearer"
    let expiresIn: Int
    let refreshToken: String
    let scope: String

    init(_ pair: TokenPair) {
        accessToken = pair.accessToken
        expiresIn = pair.expiresIn
        refreshToken = pair.refreshToken
        scope = pair.scope
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case scope
    }
}

/// `{active:false[, reason]}` or `{active:true, sub, username, roles, scope, iss, aud, exp, iat, jti, client_id, ...}`.
struct VerifyResponse: ResponseEncodable, ResponseGenerator {
    let active: Bool
    var reason: String?
    var sub: String?
    var username: String?
    var roles: [String]?
    var scope: String?
    var iss: String?
    var aud: Audience?
    var exp: Int64?
    var iat: Int64?
    var nbf: Int64?
    var jti: String?
    var sid: String?
    var clientID: String?

    init(active: Bool) {
        self.active = active
    }

    init(_ claims: AccessTokenClaims) {
        active = true
        sub = claims.sub
        username = claims.username
        roles = claims.roles
        scope = claims.scope
        iss = claims.iss
        aud = claims.aud
        exp = claims.exp
        iat = claims.iat
        nbf = claims.nbf
        jti = claims.jti
        sid = claims.sid
        clientID = claims.clientID
    }

    enum CodingKeys: String, CodingKey {
        case active, reason, sub, username, roles, scope, iss, aud, exp, iat, nbf, jti, sid
        case clientID = "client_id"
    }

    /// The same object `Codable` describes, written without `JSONEncoder` (the hot path).
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONObjectWriter()
        writer.add("active", active)
        writer.add("reason", reason)
        writer.add("sub", sub)
        writer.add("username", username)
        writer.add("roles", roles)
        writer.add("scope", scope)
        writer.add("iss", iss)
        writer.add("aud", aud)
        writer.add("exp", exp)
        writer.add("iat", iat)
        writer.add("nbf", nbf)
        writer.add("jti", jti)
        writer.add("sid", sid)
        writer.add("client_id", clientID)
        return writer.response()
    }
}
