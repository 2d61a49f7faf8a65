import Foundation
import Hummingbird
import HTTPTypes
import PortcullisCore

/// What the pages share: validating a carried authorization request, rendering the step the
/// authorization flow asks for, and signing a browser in.
///
/// Every POST re-validates the whole authorization request it carries, so nothing in a hidden
/// field is trusted.
package struct PageFlow: Sendable {
    /// A value, or the page (or redirect) that answers the request instead.
    enum Outcome<Value> {
        case value(Value)
        case page(Response)
    }

    /// Where a sign-in form returns to: an authorization request, or an account page (TOTP, passkeys).
    enum Continuation {
        case authorization(AuthorizationRequest)
        case account
        case passkeys
    }

    let oauth: OAuthProvider
    let issuer: String
    let cookies: BrowserCookies

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// The canonical query string of a parameter set (carried through the forms).
    package static func canonicalQuery(_ parameters: FormParameters) -> String {
        let pairs = parameters.values.map { ($0.key, $0.value) } + parameters.resources.map { ("resource", $0) }
        return pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map { "\(AuthorizationResponse.formEncode($0.0))=\(AuthorizationResponse.formEncode($0.1))" }
            .joined(separator: "&")
    }

    /// Validates an authorization request; the failure is already a page or a redirect.
    func validate(_ parameters: FormParameters) async throws -> Outcome<AuthorizationRequest> {
        do {
            let request = try await AuthorizationRequest.validate(
                parameters.values, resources: parameters.resources, query: Self.canonicalQuery(parameters), issuer: issuer) {
                    try await oauth.client(id: $0)
                }
            return .value(request)
        } catch let rejected as AuthorizationRequestRejected {
            return .page(Pages.error(rejected.message))
        } catch let redirect as AuthorizationErrorRedirect {
            return .page(Self.redirect(redirect.location))
        }
    }

    /// Where a submitted sign-in or consent form continues: its `next` or its carried `request`.
    func continuation(of form: FormParameters) async throws -> Outcome<Continuation> {
        if form["next"] == "account" { return .value(.account) }
        if form["next"] == "passkeys" { return .value(.passkeys) }
        let parameters: FormParameters
        do { parameters = try FormParameters(parsing: form["request"] ?? "") } catch { return .page(Pages.error(error.description)) }
        switch try await validate(parameters) {
        case .value(let request): return .value(.authorization(request))
        case .page(let response): return .page(response)
        }
    }

    /// `body` with the form's continuation, or the page that answers instead when it is not valid.
    func continuing(_ context: PageRequestContext, _ body: (Continuation) async throws -> Response) async throws -> Response {
        switch try await continuation(of: context.parameters) {
        case .value(let next): return try await body(next)
        case .page(let response): return response
        }
    }

    /// The second step's page: a code form and/or a passkey button, by `methods`.
    func secondFactorPage(_ next: Continuation, mfaToken: String, methods: [String], context: PageRequestContext, error: String?) -> Response {
        Pages.mfa(action: "/oauth2/mfa", csrf: context.csrf.token, carried: Self.secondFactorFields(next, mfaToken: mfaToken, methods: methods),
                  methods: methods, error: error)
    }

    /// What the second-factor forms carry: the continuation, the `mfa_token`, and the methods the
    /// page offers (only which buttons show; every method checks the user's factors itself).
    static func secondFactorFields(_ next: Continuation, mfaToken: String, methods: [String]) -> [(String, String)] {
        carried(next) + [("mfa_token", mfaToken), ("methods", methods.joined(separator: " "))]
    }

    /// The methods a second-factor form carried (`totp` when none).
    static func secondFactorMethods(_ form: FormParameters) -> [String] {
        let methods = (form["methods"] ?? "").split(separator: " ").map(String.init).filter { ["totp", "webauthn"].contains($0) }
        return methods.isEmpty ? ["totp"] : methods
    }

    /// The hidden fields that carry `continuation` through a form.
    static func carried(_ continuation: Continuation) -> [(String, String)] {
        switch continuation {
        case .authorization(let request): [("request", request.query)]
        case .account: [("next", "account")]
        case .passkeys: [("next", "passkeys")]
        }
    }

    func loginPage(_ continuation: Continuation, context: PageRequestContext, username: String = "", error: String?,
                   cookies: [String] = []) -> Response {
        var clientName: String?
        if case .authorization(let authorization) = continuation { clientName = authorization.client.name }
        return Pages.login(action: "/oauth2/login", csrf: context.csrf.token, carried: Self.carried(continuation), username: username,
                           error: error, clientName: clientName, cookies: cookies)
    }

    /// The page or redirect for the flow's next step.
    func render(_ step: AuthorizationFlow.NextStep, _ authorization: AuthorizationRequest, user: User?, context: PageRequestContext,
                cookies: [String] = []) -> Response {
        switch step {
        case .redirect(let location):
            return Self.redirect(location, cookies: cookies)
        case .login:
            return loginPage(.authorization(authorization), context: context, error: nil, cookies: cookies)
        case .passkeyLogin:
            return Pages.login(action: "/oauth2/login", csrf: context.csrf.token, carried: Self.carried(.authorization(authorization)), username: "",
                               error: nil, clientName: authorization.client.name, passkeyOnly: true, cookies: cookies)
        case .consent:
            return Pages.consent(csrf: context.csrf.token, query: authorization.query, clientName: authorization.client.name,
                                 username: user?.username ?? "", scopes: authorization.scopes, cookies: cookies)
        }
    }

    /// A new session (the old one ends: the cookie rotates at every sign-in), then on to consent, the code or the account page.
    func signedIn(user: User, amr: [String], next: Continuation, context: PageRequestContext) async throws -> Response {
        try await oauth.browserSessions.end(cookie: context.sessionCookie)
        let value = try await oauth.browserSessions.start(user: user, amr: amr)
        let sessionCookie = cookies.setCookie(cookies.sessionName, value)
        switch next {
        case .account:
            return Self.redirect("/account/totp", cookies: [sessionCookie])
        case .passkeys:
            return Self.redirect("/account/passkeys", cookies: [sessionCookie])
        case .authorization(let authorization):
            guard let (session, _) = try await oauth.browserSessions.session(cookie: value) else { return Pages.error("The session could not be started.") }
            let step = try await oauth.authorization.nextStep(
                for: authorization, session: session, user: user, justLoggedIn: true, remoteAddress: context.clientAddress)
            return render(step, authorization, user: user, context: context, cookies: [sessionCookie])
        }
    }

    /// The sentence a page shows for an error.
    static func message(for error: PortcullisError) -> String {
        switch error {
        case .invalidCredentials: "Wrong username or password."
        case .throttled(let seconds): "Too many attempts. Try again in \(seconds) seconds."
        case .invalidCode: "That code is not valid. Try the current code from your app."
        case .invalidToken: "Your sign-in took too long. Please start again."
        default: error.description
        }
    }
}
