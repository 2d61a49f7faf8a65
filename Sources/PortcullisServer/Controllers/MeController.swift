import Foundation
public import Hummingbird
public import PortcullisCore

/// `/v1/me` and `/v1/me/password`, for the holder of a live access token.
public struct MeController: Sendable {
    let auth: AuthService

    /// A controller over `auth`.
    public init(auth: AuthService) {
        self.auth = auth
    }

    /// Adds the routes to `router`.
    public func addRoutes(to router: Router<PortcullisRequestContext>) {
        router.get("/v1/me", use: me)
        router.post("/v1/me/password", use: changePassword)
    }

    struct PasswordRequest: Decodable {
        let currentPassword: String
        let newPassword: String
        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    @Sendable func me(_ request: Request, context: PortcullisRequestContext) async throws -> ProfileResponse {
        let (user, _) = try await auth.authenticate(bearer: try BearerToken.extract(from: request))
        return ProfileResponse(
            id: user.id, username: user.username, email: user.email, roles: try await auth.roles(of: user),
            mfa: .init(totp: try await auth.hasActiveTOTP(user)), createdAt: ISO8601DateFormatter().string(from: user.createdAt))
    }

    @Sendable func changePassword(_ request: Request, context: PortcullisRequestContext) async throws -> HTTPResponse.Status {
        let (user, claims) = try await auth.authenticate(bearer: try BearerToken.extract(from: request))
        let body = try await request.decode(as: PasswordRequest.self, context: context)
        try await auth.changePassword(
            user: user, currentSessionID: claims.sid, currentPassword: body.currentPassword,
            newPassword: body.newPassword, remoteAddress: context.clientAddress)
        return .noContent
    }
}

/// The profile of the token's user.
struct ProfileResponse: ResponseEncodable {
    struct MFAState: Encodable {
        let totp: Bool
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

/// Reads `Authorization: Bearer TOKEN`.
enum BearerToken {
    static func extract(from request: Request) throws -> String {
        guard let header = request.headers[.authorization] else {
            throw PortcullisError.invalidToken("missing bearer token")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty, parts[1].utf8.count <= 16 * 1024 else {
            throw PortcullisError.invalidToken("malformed Authorization header")
        }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}
