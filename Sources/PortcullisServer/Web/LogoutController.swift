import Hummingbird
import PortcullisCore

/// `/oauth2/logout`: OIDC RP-initiated logout. GET asks for confirmation; the confirming POST
/// (CSRF-checked) ends the browser session and returns to a registered `post_logout_redirect_uri`.
struct LogoutController: Sendable {
    let flow: PageFlow

    /// The confirmation page and its form.
    var endpoints: RouteCollection<PageRequestContext> {
        let routes = RouteCollection(context: PageRequestContext.self)
        routes.get("/oauth2/logout", use: confirm)
        routes.post("/oauth2/logout", use: logout)
        return routes
    }

    /// Checks `post_logout_redirect_uri` against the client named by `client_id` or `id_token_hint`.
    func target(_ parameters: FormParameters) async throws -> PageFlow.Outcome<String?> {
        guard let uri = parameters["post_logout_redirect_uri"] else { return .value(nil) }
        let clientID = parameters["client_id"] ?? parameters["id_token_hint"].flatMap(flow.oauth.tokens.audience(ofIDTokenHint:))
        guard let clientID, let client = try await flow.oauth.client(id: clientID), client.postLogoutRedirectURIs.contains(uri) else {
            return .page(Pages.error("The post_logout_redirect_uri is not registered for this application."))
        }
        return .value(AuthorizationResponse.location(uri, [("state", parameters["state"])]))
    }

    @Sendable func confirm(_ request: Request, context: PageRequestContext) async throws -> Response {
        if case .page(let page) = try await target(context.parameters) { return page }
        return Pages.logoutConfirm(csrf: context.csrf.token,
                                   carried: context.parameters.values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    @Sendable func logout(_ request: Request, context: PageRequestContext) async throws -> Response {
        let target: String?
        switch try await self.target(context.parameters) {
        case .value(let value): target = value
        case .page(let page): return page
        }
        try await flow.oauth.browserSessions.end(cookie: context.sessionCookie)
        let cleared = flow.cookies.setCookie(flow.cookies.sessionName, "", maxAge: 0)
        if let target { return PageFlow.redirect(target, cookies: [cleared]) }
        return Pages.signedOut(cookies: [cleared])
    }
}
