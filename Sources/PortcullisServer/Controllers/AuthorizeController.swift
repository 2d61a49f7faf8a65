import Foundation
import Hummingbird
import PortcullisCore

/// `POST /v1/authorize`: may this subject do this action on this resource?
///
/// Registered behind `BearerTokenMiddleware`: asking about another subject takes the caller's token.
package struct AuthorizeController: Sendable {
    let authorization: AuthorizationService

    /// The decision route.
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.post("/v1/authorize", use: authorize)
        return routes
    }

    /// `{token, action, resource}`, or `{subject, action, resource}` with a bearer token allowed to check.
    package struct AuthorizeRequest: Decodable {
        let token: String?
        let subject: String?
        let action: String
        let resource: String
        /// When given, a token whose `aud` lacks it is not allowed.
        let audience: String?
    }

    struct AuthorizeResponse: ResponseEncodable, ResponseGenerator {
        let allowed: Bool
        let subject: String
        let roles: [String]
        let reason: String
        var clientID: String?
        var scope: String?
        var aud: Audience?

        enum CodingKeys: String, CodingKey {
            case allowed, subject, roles, reason, scope, aud
            case clientID = "client_id"
        }

        /// The `Codable` object, written without `JSONEncoder` (the hot path).
        func response(from request: Request, context: some RequestContext) throws -> Response {
            var writer = JSONObjectWriter()
            writer.add("allowed", allowed)
            writer.add("subject", subject)
            writer.add("roles", roles)
            writer.add("reason", reason)
            writer.add("client_id", clientID)
            writer.add("scope", scope)
            writer.add("aud", aud)
            return writer.response()
        }
    }

    @Sendable func authorize(_ request: Request, context: PortcullisRequestContext) async throws -> AuthorizeResponse {
        let body = try await request.decode(as: AuthorizeRequest.self, context: context)
        let answer: AuthorizationAnswer
        switch (body.token, body.subject) {
        case (let token?, nil):
            answer = try await authorization.authorize(token: token, action: body.action, resource: body.resource, audience: body.audience)
        case (nil, let subject?):
            guard !subject.isEmpty else { throw PortcullisError.invalidRequest("subject is empty") }
            guard let callerToken = context.bearerToken else { throw PortcullisError.invalidToken("missing bearer token") }
            answer = try await authorization.authorize(
                callerToken: callerToken, subject: subject, action: body.action, resource: body.resource,
                audience: body.audience)
        default:
            throw PortcullisError.invalidRequest("give exactly one of token or subject")
        }
        return AuthorizeResponse(allowed: answer.allowed, subject: answer.subject, roles: answer.roles, reason: answer.reason,
                                 clientID: answer.clientID, scope: answer.scope, aud: answer.audience)
    }
}
