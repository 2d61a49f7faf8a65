import Foundation
package import Hummingbird
package import Logging
package import NIOCore
package import PortcullisCore
import Synchronization

/// What a hot route reads of a request: its body (at most `PortcullisRequestContext.bodyLimit`
/// bytes) and its `Authorization` header. Both paths fill it the same way.
package struct RouteInput: Sendable {
    /// The request body.
    package var body: ByteBuffer
    /// The `Authorization` field, if any (the first when several came).
    package var authorization: String?
    /// The `Content-Type` field, if any.
    package var contentType: String?
    /// The client's address (`ClientAddressResolver`'s answer).
    package var clientAddress: String

    /// An input of `body` and these fields from `clientAddress`.
    package init(body: ByteBuffer, authorization: String? = nil, contentType: String? = nil, clientAddress: String = "unknown") {
        self.body = body
        self.authorization = authorization
        self.contentType = contentType
        self.clientAddress = clientAddress
    }
}

extension RouteInput {
    /// The input of a request the router took: the same fields the hot path reads off NIO's head.
    /// The `Authorization` field travels raw; the routes parse it with the one parser of each
    /// scheme (`BearerTokenMiddleware.token(in:)`, `OAuthController.credentials`).
    init(_ request: Request, body: ByteBuffer, clientAddress: String) {
        self.init(body: body, authorization: request.headers[.authorization], contentType: request.headers[.contentType],
                  clientAddress: clientAddress)
    }
}

/// A route services call thousands of times a second, written once for both paths: the hot path
/// (`HotRouteHandler`, on the event loop) calls `answerImmediately` and hands the request to the
/// router when it returns nil; the router's route for the same method and path calls `answer`,
/// which starts with the same immediate answer and waits only when that one cannot be given.
package struct HotRoute: Sendable {
    /// `GET` or `POST`.
    package let method: HTTPRequest.Method
    /// The exact path (no query, no trailing slash), also the pattern its metrics and logs name.
    package let path: String
    /// This route's request metrics, found once (the router's requests of it count in the same series).
    package let series: RouteRequestSeries
    /// The answer on the calling thread, or nil when it must wait. Never throws: errors are answers.
    let immediate: @Sendable (RouteInput) -> PlainResponse?
    /// The answer, waiting when it must.
    let eventual: @Sendable (RouteInput) async -> PlainResponse

    init(method: HTTPRequest.Method, path: String, metrics: PortcullisMetrics, immediate: @escaping @Sendable (RouteInput) -> PlainResponse?,
         eventual: @escaping @Sendable (RouteInput) async -> PlainResponse) {
        self.method = method
        self.path = path
        series = metrics.requestSeries(method: method.rawValue, route: path)
        self.immediate = immediate
        self.eventual = eventual
    }

    /// The answer on the calling thread, or nil when only `answer` can give it. Its store
    /// lookups share one reading of whether the database changed (`StoreReadScope`).
    package func answerImmediately(_ input: RouteInput) -> PlainResponse? {
        StoreReadScope.run { immediate(input) }
    }

    /// The answer.
    package func answer(_ input: RouteInput) async -> PlainResponse {
        if let response = answerImmediately(input) { return response }
        return await eventual(input)
    }
}

/// The hot routes of one server: `/healthz`, `/readyz`, the JWKS, token verification, the token
/// form of `/v1/authorize` and access-token introspection. Every other route is the router's alone.
package struct HotRoutes: Sendable {
    /// Every hot route.
    package let all: [HotRoute]
    private let byPath: [String: HotRoute]

    /// The routes over `services`; errors that reveal a failure are logged to `logger`.
    package init(services: PortcullisServices, logger: Logger) {
        let answers = HotAnswers(auth: services.auth, authorization: services.authorization, oauth: services.oauth, keys: services.keys,
                                 logger: logger)
        let readiness = Readiness(store: services.store, keys: services.keys, policies: services.policies)
        let metrics = services.metrics
        all = [
            HotRoute(method: .get, path: "/healthz", metrics: metrics,
                     immediate: { _ in HotAnswers.healthy }, eventual: { _ in HotAnswers.healthy }),
            // The database is asked at every probe: always waited for, but by the hot path itself.
            HotRoute(method: .get, path: "/readyz", metrics: metrics, immediate: { _ in nil }, eventual: { _ in await readiness.answer() }),
            HotRoute(method: .get, path: "/.well-known/jwks.json", metrics: metrics,
                     immediate: { _ in answers.jwks() }, eventual: { _ in answers.jwks() }),
            HotRoute(method: .post, path: "/v1/token/verify", metrics: metrics,
                     immediate: { answers.verify($0) }, eventual: { input in await answers.verifyWaiting(input) }),
            HotRoute(method: .post, path: "/v1/authorize", metrics: metrics,
                     immediate: { answers.authorize($0) }, eventual: { input in await answers.authorizeWaiting(input) }),
            HotRoute(method: .post, path: "/oauth2/introspect", metrics: metrics,
                     immediate: { answers.introspect($0) }, eventual: { input in await answers.introspectWaiting(input) }),
        ]
        byPath = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })
    }

    /// The hot route for this method and path (the path without its query), if any.
    package func route(method: HTTPRequest.Method, path: Substring) -> HotRoute? {
        guard let route = byPath[String(path)], route.method == method else { return nil }
        return route
    }
}

/// The answers of the hot routes (see `HotRoutes`).
struct HotAnswers: Sendable {
    let auth: AuthService
    let authorization: AuthorizationService
    let oauth: OAuthProvider
    let keys: any KeyRingSource
    let logger: Logger
    private let jwksCache = JWKSCache()

    init(auth: AuthService, authorization: AuthorizationService, oauth: OAuthProvider, keys: any KeyRingSource, logger: Logger) {
        self.auth = auth
        self.authorization = authorization
        self.oauth = oauth
        self.keys = keys
        self.logger = logger
    }

    static let healthy: PlainResponse = {
        var writer = JSONObjectWriter(capacity: 16)
        writer.add("status", "ok")
        return PlainResponse(body: writer.finish())
    }()

    /// Tokens longer than this are inactive without being parsed.
    static let maxTokenSize = 16 * 1024
    /// Audiences longer than this make a token inactive.
    static let maxAudienceSize = 2048

    // MARK: JWKS

    func jwks() -> PlainResponse {
        answering { try jwksCache.body(for: keys.current()) }
    }

    // MARK: /v1/token/verify

    /// What `/v1/token/verify` was asked: `{token, audience?}`.
    struct VerifyQuestion {
        let token: String
        let audience: String?

        init(_ input: RouteInput) throws {
            let body = try StrictJSONObject(parsing: input.body)
            token = try body.requiredString("token")
            audience = try body.string("audience")
        }

        /// A token or audience too long to be ours is inactive without being parsed.
        var isOversized: Bool {
            token.utf8.count > HotAnswers.maxTokenSize || (audience?.utf8.count ?? 0) > HotAnswers.maxAudienceSize
        }
    }

    /// `{active:false[, reason]}` or the token's claims, now; nil when it must wait.
    func verify(_ input: RouteInput) -> PlainResponse? {
        answeringOrWaiting {
            let question = try VerifyQuestion(input)
            if question.isOversized { return Self.verifyAnswer(.inactive) }
            return try auth.verifyImmediately(question.token, audience: question.audience).map(Self.verifyAnswer)
        }
    }

    func verifyWaiting(_ input: RouteInput) async -> PlainResponse {
        do {
            let question = try VerifyQuestion(input)
            if question.isOversized { return Self.verifyAnswer(.inactive) }
            return Self.verifyAnswer(try await auth.verify(question.token, audience: question.audience))
        } catch {
            return failure(error)
        }
    }

    static func verifyAnswer(_ verdict: TokenVerdict) -> PlainResponse {
        var writer = JSONObjectWriter()
        switch verdict {
        case .inactive:
            writer.add("active", false)
        case .otherAudience(_, let reason):
            writer.add("active", false)
            writer.add("reason", reason)
        case .active(let claims):
            writer.add("active", true)
            writer.add("sub", claims.sub)
            writer.add("username", claims.username)
            writer.add("roles", claims.roles)
            writer.add("scope", claims.scope)
            writer.add("iss", claims.iss)
            writer.add("aud", claims.aud)
            writer.add("exp", claims.exp)
            writer.add("iat", claims.iat)
            writer.add("nbf", claims.nbf)
            writer.add("jti", claims.jti)
            writer.add("sid", claims.sid)
            writer.add("client_id", claims.clientID)
        }
        return PlainResponse(body: writer.finish())
    }

    // MARK: /v1/authorize

    /// What `/v1/authorize` was asked.
    struct AuthorizeQuestion {
        let token: String?
        let subject: String?
        let callerToken: String?
        let action: String
        let resource: String
        let audience: String?

        init(_ input: RouteInput) throws {
            // The bearer header is read (and a malformed one refused) whichever form is asked.
            callerToken = try BearerTokenMiddleware.token(in: input.authorization)
            let body = try StrictJSONObject(parsing: input.body)
            token = try body.string("token")
            subject = try body.string("subject")
            action = try body.requiredString("action")
            resource = try body.requiredString("resource")
            audience = try body.string("audience")
        }
    }

    func authorize(_ input: RouteInput) -> PlainResponse? {
        answeringOrWaiting {
            let question = try AuthorizeQuestion(input)
            switch (question.token, question.subject) {
            case (let token?, nil):
                return try authorization.authorizeImmediately(token: token, action: question.action, resource: question.resource,
                                                              audience: question.audience).map(Self.authorizeAnswer)
            case (nil, _?):
                return nil  // the subject form reads the subject's user and grants: the router's
            default:
                throw PortcullisError.invalidRequest("give exactly one of token or subject")
            }
        }
    }

    func authorizeWaiting(_ input: RouteInput) async -> PlainResponse {
        do {
            let question = try AuthorizeQuestion(input)
            let answer: AuthorizationAnswer
            switch (question.token, question.subject) {
            case (let token?, nil):
                answer = try await authorization.authorize(token: token, action: question.action, resource: question.resource,
                                                           audience: question.audience)
            case (nil, let subject?):
                guard !subject.isEmpty else { throw PortcullisError.invalidRequest("subject is empty") }
                guard let callerToken = question.callerToken else { throw PortcullisError.invalidToken("missing bearer token") }
                answer = try await authorization.authorize(callerToken: callerToken, subject: subject, action: question.action,
                                                           resource: question.resource, audience: question.audience)
            default:
                throw PortcullisError.invalidRequest("give exactly one of token or subject")
            }
            return Self.authorizeAnswer(answer)
        } catch {
            return failure(error)
        }
    }

    static func authorizeAnswer(_ answer: AuthorizationAnswer) -> PlainResponse {
        var writer = JSONObjectWriter()
        writer.add("allowed", answer.allowed)
        writer.add("subject", answer.subject)
        writer.add("roles", answer.roles)
        writer.add("reason", answer.reason)
        writer.add("client_id", answer.clientID)
        writer.add("scope", answer.scope)
        writer.add("aud", answer.audience)
        return PlainResponse(body: writer.finish())
    }

    // MARK: /oauth2/introspect (RFC 7662)

    /// The form and the client's credentials of an introspection request.
    private func introspectionRequest(_ input: RouteInput) throws -> (token: String, credentials: ClientCredentials) {
        let form = try FormParameters(body: input.body, contentType: input.contentType)
        let credentials = try OAuthController.credentials(authorization: input.authorization, form: form)
        guard let token = form["token"] else { throw OAuthError(.invalidRequest, "token is required") }
        return (token, credentials)
    }

    func introspect(_ input: RouteInput) -> PlainResponse? {
        answeringOrWaiting {
            let (token, credentials) = try introspectionRequest(input)
            guard case .answered(let client) = try oauth.clients.authenticateImmediately(
                credentials, remoteAddress: input.clientAddress, allowPublic: false),
                  case .answered(let members) = try oauth.introspection.introspectImmediately(client: client, token: token) else { return nil }
            return Self.introspectionAnswer(members)
        }
    }

    func introspectWaiting(_ input: RouteInput) async -> PlainResponse {
        do {
            let (token, credentials) = try introspectionRequest(input)
            let client = try await oauth.clients.authenticate(credentials, remoteAddress: input.clientAddress, allowPublic: false)
            return Self.introspectionAnswer(try await oauth.introspection.introspect(client: client, token: token))
        } catch {
            return failure(error)
        }
    }

    /// The members in name order (the bytes `JSONEncoder` with sorted keys writes), `no-store` and `Pragma: no-cache`.
    static func introspectionAnswer(_ members: IntrospectionMembers?) -> PlainResponse {
        var writer = JSONObjectWriter(capacity: 1024)  // an access token's members, roles and all, without growing
        for member in members?.sorted ?? [.init(name: "active", value: .bool(false))] {
            switch member.value {
            case .bool(let flag): writer.add(key: member.name, flag)
            case .string(let text): writer.add(key: member.name, text)
            case .int(let number): writer.add(key: member.name, number)
            case .strings(let list): writer.add(key: member.name, list)
            }
        }
        return PlainResponse(contentType: "application/json", headers: [("Cache-Control", "no-store"), ("Pragma", "no-cache")],
                             body: writer.finish())
    }

    // MARK: Errors

    /// `body`'s answer, or its error as the one error shape.
    private func answering(_ body: () throws -> PlainResponse) -> PlainResponse {
        do { return try body() } catch { return failure(error) }
    }

    /// `body`'s answer (nil: it must wait), or its error as the one error shape.
    private func answeringOrWaiting(_ body: () throws -> PlainResponse?) -> PlainResponse? {
        do { return try body() } catch { return failure(error) }
    }

    /// An error as both paths answer it: ours in their own shape (failures logged), a body that
    /// is not the JSON asked for as `invalid_request`, anything else a 500 that reveals nothing.
    func failure(_ error: any Error) -> PlainResponse {
        switch error {
        case let error as PortcullisError:
            switch error {
            case .internalFailure(let detail): logger.error("internal failure", metadata: ["detail": "\(detail)"])
            case .unavailable(let detail): logger.warning("database unavailable", metadata: ["detail": "\(detail)"])
            default: break
            }
            return error.plainResponse
        case let error as OAuthError:
            return error.plainResponse
        case let error as StrictJSONError:
            return PortcullisError(error).plainResponse
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return PortcullisError.internalFailure("unhandled").plainResponse
        }
    }
}

/// The JWKS bytes of the key ring in force, encoded again only when its live keys change.
final class JWKSCache: Sendable {
    private let cached = Mutex<(kids: [String], body: ByteBuffer)?>(nil)

    func body(for ring: KeyRing) throws -> PlainResponse {
        let kids = ring.metadata.filter { $0.retiredAt == nil }.map(\.kid)
        let body: ByteBuffer
        if let hit = cached.withLock({ $0?.kids == kids ? $0?.body : nil }) {
            body = hit
        } else {
            // Sorted keys: the same ring is the same bytes, in every process.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            body = ByteBuffer(bytes: try encoder.encode(try ring.jwks()))
            cached.withLock { $0 = (kids, body) }
        }
        return PlainResponse(contentType: "application/json", headers: [("Cache-Control", "public, max-age=300")], body: body)
    }
}
