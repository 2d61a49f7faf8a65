import Foundation
import Hummingbird
import PortcullisCore
import PortcullisWebAuthn

/// Passkeys (WebAuthn) over JSON, for first-party apps. Options and credentials travel in the
/// WebAuthn Level 3 JSON encoding, so a browser's `PublicKeyCredential.toJSON()` posts as it is.
///
/// Signed in (`/v1/me/webauthn`): register, list, rename, remove. Signing in: passwordless
/// (`/v1/login/webauthn`) and the second factor's options (`/v1/login/mfa/webauthn/options`; the
/// assertion itself goes to `/v1/login/mfa`, beside TOTP codes: `AuthController`).
struct PasskeyController: Sendable {
    let auth: AuthService

    /// The account routes, relative to `/v1/me/webauthn`.
    var accountEndpoints: RouteCollection<AuthenticatedRequestContext> {
        let routes = RouteCollection(context: AuthenticatedRequestContext.self)
        routes.get(use: list)
        routes.post("register/options", use: registrationOptions)
        routes.post("register", use: register)
        routes.patch(":id", use: rename)
        routes.delete(":id", use: remove)
        return routes
    }

    /// The sign-in routes.
    var signInEndpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.post("/v1/login/webauthn/options", use: passwordlessOptions)
        routes.post("/v1/login/webauthn", use: passwordless)
        routes.post("/v1/login/mfa/webauthn/options", use: secondFactorOptions)
        return routes
    }

    struct RegisterRequest: Decodable {
        let credential: PublicKeyCredentialJSON
        let name: String?
    }

    struct RenameRequest: Decodable {
        let name: String
    }

    struct RemoveRequest: Decodable {
        let password: String?
    }

    struct PasswordlessOptionsRequest: Decodable {
        let username: String?
    }

    struct PasswordlessRequest: Decodable {
        let webauthnToken: String
        let credential: PublicKeyCredentialJSON
        enum CodingKeys: String, CodingKey {
            case webauthnToken = "webauthn_token"
            case credential
        }
    }

    struct SecondFactorOptionsRequest: Decodable {
        let mfaToken: String
        enum CodingKeys: String, CodingKey { case mfaToken = "mfa_token" }
    }

    /// `{"publicKey": …}`, and for passwordless sign-in the `webauthn_token` that carries the challenge.
    struct OptionsResponse<Options: Encodable & Sendable>: ResponseEncodable {
        let publicKey: Options
        let webauthnToken: String?
        enum CodingKeys: String, CodingKey {
            case publicKey
            case webauthnToken = "webauthn_token"
        }
    }

    /// One passkey as the account API shows it: its name, dates and flags, not its key or credential id.
    struct PasskeyResponse: ResponseEncodable {
        let id: String
        let name: String
        let createdAt: String
        let lastUsedAt: String?
        let backedUp: Bool
        let transports: [String]
        let flagged: Bool

        init(_ passkey: Passkey) {
            let format = ISO8601DateFormatter()
            id = passkey.id
            name = passkey.name
            createdAt = format.string(from: passkey.createdAt)
            lastUsedAt = passkey.lastUsedAt.map(format.string(from:))
            backedUp = passkey.backedUp
            transports = passkey.transports
            flagged = passkey.flaggedAt != nil
        }

        enum CodingKeys: String, CodingKey {
            case id, name, transports, flagged
            case createdAt = "created_at"
            case lastUsedAt = "last_used_at"
            case backedUp = "backed_up"
        }
    }

    struct PasskeyList: ResponseEncodable {
        let passkeys: [PasskeyResponse]
    }

    @Sendable func list(_ request: Request, context: AuthenticatedRequestContext) async throws -> PasskeyList {
        PasskeyList(passkeys: try await auth.passkeys(of: context.principal.user).map(PasskeyResponse.init))
    }

    @Sendable func registrationOptions(_ request: Request, context: AuthenticatedRequestContext) async throws -> OptionsResponse<PublicKeyCredentialCreationOptionsJSON> {
        OptionsResponse(publicKey: try await auth.passkeyRegistrationOptions(user: context.principal.user), webauthnToken: nil)
    }

    @Sendable func register(_ request: Request, context: AuthenticatedRequestContext) async throws -> EditedResponse<PasskeyResponse> {
        let body = try await request.decode(as: RegisterRequest.self, context: context)
        let passkey = try await auth.registerPasskey(user: context.principal.user, credential: body.credential, name: body.name,
                                                     remoteAddress: context.clientAddress)
        return EditedResponse(status: .created, response: PasskeyResponse(passkey))
    }

    @Sendable func rename(_ request: Request, context: AuthenticatedRequestContext) async throws -> HTTPResponse.Status {
        let id = try context.parameters.require("id")
        let body = try await request.decode(as: RenameRequest.self, context: context)
        try await auth.renamePasskey(user: context.principal.user, id: id, name: body.name, remoteAddress: context.clientAddress)
        return .noContent
    }

    @Sendable func remove(_ request: Request, context: AuthenticatedRequestContext) async throws -> HTTPResponse.Status {
        let id = try context.parameters.require("id")
        let body = try await request.decode(as: RemoveRequest.self, context: context)
        try await auth.removePasskey(user: context.principal.user, id: id, password: body.password, remoteAddress: context.clientAddress)
        return .noContent
    }

    @Sendable func passwordlessOptions(_ request: Request, context: PortcullisRequestContext) async throws -> OptionsResponse<PublicKeyCredentialRequestOptionsJSON> {
        let body = try await request.decode(as: PasswordlessOptionsRequest.self, context: context)
        let (options, token) = try await auth.passwordlessOptions(username: body.username, remoteAddress: context.clientAddress)
        return OptionsResponse(publicKey: options, webauthnToken: token)
    }

    @Sendable func passwordless(_ request: Request, context: PortcullisRequestContext) async throws -> TokenResponse {
        let body: PasswordlessRequest
        do {
            body = try await request.decode(as: PasswordlessRequest.self, context: context)
        } catch {
            // A credential too malformed to decode is one more failed sign-in: the same 401.
            throw PortcullisError.invalidCredentials
        }
        return TokenResponse(try await auth.passwordlessLogin(token: body.webauthnToken, credential: body.credential,
                                                              remoteAddress: context.clientAddress))
    }

    @Sendable func secondFactorOptions(_ request: Request, context: PortcullisRequestContext) async throws -> OptionsResponse<PublicKeyCredentialRequestOptionsJSON> {
        let body = try await request.decode(as: SecondFactorOptionsRequest.self, context: context)
        return OptionsResponse(publicKey: try await auth.passkeySecondFactorOptions(mfaToken: body.mfaToken, remoteAddress: context.clientAddress),
                               webauthnToken: nil)
    }
}
