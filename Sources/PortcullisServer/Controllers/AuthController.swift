import Foundation
import Hummingbird
import PortcullisCore
import PortcullisWebAuthn

/// `/v1/login`, `/v1/token/refresh`, `/v1/logout` (`/v1/token/verify` is a hot route: `HotRoutes`).
package struct AuthController: Sendable {
    let auth: AuthService

    /// Login, refresh and logout.
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.post("/v1/login", use: login)
        routes.post("/v1/login/mfa", use: loginMFA)
        routes.post("/v1/token/refresh", use: refresh)
        routes.post("/v1/logout", use: logout)
        return routes
    }

    package struct LoginRequest: Decodable {
        let username: String
        let password: String
    }

    /// The second step: a TOTP or recovery `code`, or a passkey's `credential` (`PublicKeyCredential.toJSON()`).
    struct MFALoginRequest: Decodable {
        let mfaToken: String
        let code: String?
        let credential: PublicKeyCredentialJSON?
        enum CodingKeys: String, CodingKey {
            case mfaToken = "mfa_token"
            case code, credential
        }
    }

    package struct RefreshRequest: Decodable {
        let refreshToken: String
        enum CodingKeys: String, CodingKey { case refreshToken = "refresh_token" }
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
        switch (body.code, body.credential) {
        case (let code?, nil):
            return TokenResponse(try await auth.completeLogin(mfaToken: body.mfaToken, code: code, remoteAddress: context.clientAddress))
        case (nil, let credential?):
            return TokenResponse(try await auth.completeLogin(mfaToken: body.mfaToken, credential: credential, remoteAddress: context.clientAddress))
        default:
            throw PortcullisError.invalidRequest("give exactly one of code or credential")
        }
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
