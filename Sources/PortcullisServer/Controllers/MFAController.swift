import Foundation
import Hummingbird
import NIOCore
import PortcullisCore
import PortcullisCrypto
import PortcullisQR

/// `/v1/me/mfa/totp`: enrol, confirm, remove a TOTP second factor.
package struct MFAController: Sendable {
    let auth: AuthService

    /// Enrol, confirm and remove, relative to `/v1/me/mfa/totp`.
    var endpoints: RouteCollection<AuthenticatedRequestContext> {
        let routes = RouteCollection(context: AuthenticatedRequestContext.self)
        routes.post(use: enrol)
        routes.post("confirm", use: confirm)
        routes.delete(use: remove)
        return routes
    }

    struct EnrolRequest: Decodable {
        let algorithm: String?
        let digits: Int?
    }

    package struct CodeRequest: Decodable {
        let code: String
    }

    struct RemoveRequest: Decodable {
        let code: String?
        let password: String?
    }

    struct EnrolResponse: ResponseEncodable {
        let secret: String
        let otpauthURI: String
        let qrSVG: String
        let algorithm: String
        let digits: Int
        let period: Int
        let expiresIn: Int

        enum CodingKeys: String, CodingKey {
            case secret, algorithm, digits, period
            case otpauthURI = "otpauth_uri"
            case qrSVG = "qr_svg"
            case expiresIn = "expires_in"
        }
    }

    struct RecoveryCodesResponse: ResponseEncodable {
        let recoveryCodes: [String]
        enum CodingKeys: String, CodingKey { case recoveryCodes = "recovery_codes" }
    }

    @Sendable func enrol(_ request: Request, context: AuthenticatedRequestContext) async throws -> EnrolResponse {
        let user = context.principal.user
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        var parameters = TOTP.standard
        if body.readableBytes > 0 {
            let options = try JSONDecoder().decode(EnrolRequest.self, from: Data(body.readableBytesView))
            if let name = options.algorithm {
                guard let algorithm = HashAlgorithm(rawValue: name.uppercased().replacingOccurrences(of: "-", with: "")) else {
                    throw PortcullisError.invalidRequest("algorithm must be SHA1, SHA256 or SHA512")
                }
                parameters.algorithm = algorithm
            }
            if let digits = options.digits { parameters.digits = digits }
        }
        let enrolment = try await auth.enrolTOTP(user: user, parameters: parameters, remoteAddress: context.clientAddress)
        return EnrolResponse(
            secret: enrolment.secret, otpauthURI: enrolment.otpauthURI, qrSVG: try QRCode.svg(for: enrolment.otpauthURI),
            algorithm: parameters.algorithm.rawValue, digits: parameters.digits, period: parameters.period,
            expiresIn: Int(AuthService.enrolmentLifetime))
    }

    @Sendable func confirm(_ request: Request, context: AuthenticatedRequestContext) async throws -> RecoveryCodesResponse {
        let user = context.principal.user
        let body = try await request.decode(as: CodeRequest.self, context: context)
        return RecoveryCodesResponse(recoveryCodes: try await auth.confirmTOTP(user: user, code: body.code, remoteAddress: context.clientAddress))
    }

    @Sendable func remove(_ request: Request, context: AuthenticatedRequestContext) async throws -> HTTPResponse.Status {
        let body = try await request.decode(as: RemoveRequest.self, context: context)
        try await auth.removeTOTP(user: context.principal.user, currentSessionID: context.principal.claims.sid, code: body.code, password: body.password,
                                  remoteAddress: context.clientAddress)
        return .noContent
    }
}
