import Foundation
import Hummingbird
import PortcullisCore

/// `/v1/me` and `/v1/me/password`, for the holder of a first-party user token.
struct MeController: Sendable {
    let auth: AuthService

    /// The profile and password routes, relative to the account group (`/v1/me`).
    var endpoints: RouteCollection<AuthenticatedRequestContext> {
        let routes = RouteCollection(context: AuthenticatedRequestContext.self)
        routes.get(use: me)
        routes.post("password", use: changePassword)
        return routes
    }

    struct PasswordRequest: Decodable {
        let currentPassword: String
        let newPassword: String
        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    @Sendable func me(_ request: Request, context: AuthenticatedRequestContext) async throws -> ProfileResponse {
        let user = context.principal.user
        return ProfileResponse(
            id: user.id, username: user.username, email: user.email, roles: try await auth.roles(of: user),
            mfa: .init(totp: try await auth.hasActiveTOTP(user), webauthn: try await auth.hasPasskey(user)), createdAt: ISO8601DateFormatter().string(from: user.createdAt))
    }

    @Sendable func changePassword(_ request: Request, context: AuthenticatedRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: PasswordRequest.self, context: context)
        try await auth.changePassword(
            user: context.principal.user, currentSessionID: context.principal.claims.sid, currentPassword: body.currentPassword,
            newPassword: body.newPassword, remoteAddress: context.clientAddress)
        return .noContent
    }
}

/// The profile of the token's user.
struct ProfileResponse: ResponseEncodable {
    struct MFAState: Encodable {
        let totp: Bool
        let webauthn: Bool
    }

    let id: String
    let username: String
    let email: String?
    let roles: [String]
    let mfa: MFAState
    let createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, username, email, roles, mfa
        case createdAt = "created_at"
    }
}
