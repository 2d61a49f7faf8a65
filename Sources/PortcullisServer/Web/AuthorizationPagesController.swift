import Hummingbird
import PortcullisCore

/// `/oauth2/authorize` (GET or POST, RFC 6749 section 3.1) and `/oauth2/consent`.
///
/// The authorization request itself comes cross-site by design, so its routes carry no CSRF
/// check; the consent form does (it is registered behind `CSRFMiddleware`).
struct AuthorizationPagesController: Sendable {
    let flow: PageFlow

    /// The authorization endpoint.
    var authorizeEndpoints: RouteCollection<PageRequestContext> {
        let routes = RouteCollection(context: PageRequestContext.self)
        routes.get("/oauth2/authorize", use: authorize)
        routes.post("/oauth2/authorize", use: authorize)
        return routes
    }

    /// The consent form.
    var consentEndpoints: RouteCollection<PageRequestContext> {
        let routes = RouteCollection(context: PageRequestContext.self)
        routes.post("/oauth2/consent", use: consent)
        return routes
    }

    @Sendable func authorize(_ request: Request, context: PageRequestContext) async throws -> Response {
        let authorization: AuthorizationRequest
        switch try await flow.validate(context.parameters) {
        case .value(let value): authorization = value
        case .page(let response): return response
        }
        let step = try await flow.oauth.authorization.nextStep(
            for: authorization, session: context.session?.session, user: context.session?.user, justLoggedIn: false,
            remoteAddress: context.clientAddress)
        return flow.render(step, authorization, user: context.session?.user, context: context)
    }

    @Sendable func consent(_ request: Request, context: PageRequestContext) async throws -> Response {
        let authorization: AuthorizationRequest
        switch try await flow.continuation(of: context.parameters) {
        case .value(.authorization(let value)): authorization = value
        case .value(.account), .value(.passkeys): return Pages.error("Nothing to consent to.")
        case .page(let response): return response
        }
        guard let signedIn = context.session else {
            return flow.loginPage(.authorization(authorization), context: context, error: "Please sign in again.")
        }
        guard let decision = context.parameters["decision"], ["allow", "deny"].contains(decision) else { return Pages.error("Choose Allow or Deny.") }
        let location = try await flow.oauth.authorization.answerConsent(
            authorization, session: signedIn.session, user: signedIn.user, approved: decision == "allow", remoteAddress: context.clientAddress)
        return PageFlow.redirect(location)
    }
}
