import Foundation
public import Hummingbird
import HTTPTypes
public import PortcullisCore
import PortcullisCrypto
import PortcullisQR

/// The browser side of the OAuth provider: `/oauth2/authorize` with its login, MFA and consent
/// pages, RP-initiated logout, and the TOTP enrolment page.
///
/// Every form carries a CSRF token: an HMAC of the browser's `portcullis_csrf` cookie under a key
/// derived from the secrets key (signed double-submit). Every POST re-validates the whole
/// authorization request it carries, so nothing in a hidden field is trusted.
public struct WebController: Sendable {
    /// A value, or the page (or redirect) that answers the request instead.
    enum Outcome<Value> {
        case value(Value)
        case page(Response)
    }

    /// Cookie names; on https issuers they carry the `__Host-` prefix (RFC 6265bis section 4.1.3.2:
    /// Secure, Path=/, no Domain, so no sibling host can set or shadow them).
    let sessionCookie: String
    let csrfCookie: String

    let oauth: OAuthProvider
    let auth: AuthService
    let issuer: String
    let csrfKey: [UInt8]
    let secureCookies: Bool

    /// A controller over `oauth` and `auth`; `secretsKey` keys the CSRF tokens.
    public init(oauth: OAuthProvider, auth: AuthService, issuer: String, secretsKey: [UInt8]) {
        self.oauth = oauth
        self.auth = auth
        self.issuer = issuer
        self.csrfKey = HMAC.authenticationCode(.sha256, key: secretsKey, message: Array("portcullis-csrf-v1".utf8))
        let secure = issuer.lowercased().hasPrefix("https://")
        self.secureCookies = secure
        self.sessionCookie = (secure ? "__Host-" : "") + "portcullis_session"
        self.csrfCookie = (secure ? "__Host-" : "") + "portcullis_csrf"
    }

    /// Adds the routes to `router`.
    public func addRoutes(to router: Router<PortcullisRequestContext>) {
        router.get("/oauth2/authorize", use: authorizeGet)
        router.post("/oauth2/authorize", use: authorizePost)
        router.post("/oauth2/login", use: login)
        router.post("/oauth2/mfa", use: mfa)
        router.post("/oauth2/consent", use: consent)
        router.get("/oauth2/logout", use: logoutGet)
        router.post("/oauth2/logout", use: logoutPost)
        router.get("/account/totp", use: totpGet)
        router.post("/account/totp", use: totpPost)
    }

    // MARK: - Cookies and CSRF

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var text = "\(name)=\(value); Path=/; HttpOnly; SameSite=Lax"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if secureCookies { text += "; Secure" }
        return text
    }

    /// The browser's CSRF cookie value (a new one if it has none) and the cookie to set.
    func csrfCookieValue(_ request: Request) -> (value: String, setCookie: String?) {
        if let value = request.cookies[csrfCookie]?.value, value.count >= 32, value.count <= 64 { return (value, nil) }
        let value = SecureRandom.token()
        return (value, cookie(csrfCookie, value))
    }

    func csrfToken(for cookieValue: String) -> String {
        Base64URL.encode(HMAC.authenticationCode(.sha256, key: csrfKey, message: Array(cookieValue.utf8)))
    }

    func csrfIsValid(_ request: Request, form: FormParameters) -> Bool {
        guard let cookieValue = request.cookies[csrfCookie]?.value, let presented = form["csrf"] else { return false }
        return ConstantTime.equals(Array(csrfToken(for: cookieValue).utf8), Array(presented.utf8))
    }

    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    static let expiredForm = "This form has expired or did not come from this site. Go back to the application and start again."

    // MARK: - Authorize

    @Sendable func authorizeGet(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let parameters: FormParameters
        do { parameters = try FormParameters.query(of: request) } catch { return Pages.error(error.description) }
        return try await authorize(parameters, request: request, context: context)
    }

    @Sendable func authorizePost(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let parameters: FormParameters
        do { parameters = try await FormParameters.body(of: request, context: context) } catch let error as OAuthError { return Pages.error(error.description) }
        return try await authorize(parameters, request: request, context: context)
    }

    /// The canonical query string of a parameter set (carried through the forms).
    static func canonicalQuery(_ parameters: FormParameters) -> String {
        let pairs = parameters.values.map { ($0.key, $0.value) } + parameters.resources.map { ("resource", $0) }
        return pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map { "\(AuthorizationResponse.formEncode($0.0))=\(AuthorizationResponse.formEncode($0.1))" }
            .joined(separator: "&")
    }

    /// Validates a carried request; the failure is already a page or a redirect.
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

    func authorize(_ parameters: FormParameters, request: Request, context: PortcullisRequestContext) async throws -> Response {
        let authorization: AuthorizationRequest
        switch try await validate(parameters) {
        case .value(let value): authorization = value
        case .page(let response): return response
        }
        let current = try await oauth.browserSessions.session(cookie: request.cookies[sessionCookie]?.value)
        let step = try await oauth.authorization.nextStep(for: authorization, session: current?.0, user: current?.1, justLoggedIn: false,
                                            remoteAddress: context.clientAddress)
        return render(step, authorization, user: current?.1, request: request)
    }

    func render(_ step: AuthorizationFlow.NextStep, _ authorization: AuthorizationRequest, user: User?, request: Request,
                error: String? = nil, cookies: [String] = []) -> Response {
        let csrf = csrfCookieValue(request)
        let allCookies = cookies + [csrf.setCookie].compactMap { $0 }
        switch step {
        case .redirect(let location):
            return Self.redirect(location, cookies: cookies)
        case .login:
            return Pages.login(action: "/oauth2/login", csrf: csrfToken(for: csrf.value), carried: [("request", authorization.query)],
                               username: "", error: error, clientName: authorization.client.name, cookies: allCookies)
        case .consent:
            var response = Pages.consent(csrf: csrfToken(for: csrf.value), query: authorization.query, clientName: authorization.client.name,
                                         username: user?.username ?? "", scopes: authorization.scopes)
            for cookie in allCookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
            return response
        }
    }

    // MARK: - Login and MFA

    /// Where a login form returns to: an authorization request, or the account page.
    enum Continuation {
        case authorization(AuthorizationRequest)
        case account
    }

    func continuation(of form: FormParameters) async throws -> Outcome<Continuation> {
        if form["next"] == "account" { return .value(.account) }
        let parameters: FormParameters
        do { parameters = try FormParameters(parsing: form["request"] ?? "") } catch { return .page(Pages.error(error.description)) }
        switch try await validate(parameters) {
        case .value(let request): return .value(.authorization(request))
        case .page(let response): return .page(response)
        }
    }

    func carried(_ continuation: Continuation) -> [(String, String)] {
        switch continuation {
        case .authorization(let request): [("request", request.query)]
        case .account: [("next", "account")]
        }
    }

    func loginPage(_ continuation: Continuation, request: Request, username: String = "", error: String?) -> Response {
        let csrf = csrfCookieValue(request)
        var clientName: String?
        if case .authorization(let authorization) = continuation { clientName = authorization.client.name }
        return Pages.login(action: "/oauth2/login", csrf: csrfToken(for: csrf.value), carried: carried(continuation), username: username,
                           error: error, clientName: clientName, cookies: [csrf.setCookie].compactMap { $0 })
    }

    @Sendable func login(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form: FormParameters
        do { form = try await FormParameters.body(of: request, context: context) } catch let error as OAuthError { return Pages.error(error.description) }
        guard csrfIsValid(request, form: form) else { return Pages.error(Self.expiredForm, status: .forbidden) }
        let next: Continuation
        switch try await continuation(of: form) {
        case .value(let value): next = value
        case .page(let response): return response
        }
        let username = form["username"] ?? ""
        do {
            switch try await auth.checkPassword(username: username, password: form["password"] ?? "", remoteAddress: context.clientAddress) {
            case .authenticated(let user):
                return try await loggedIn(user: user, amr: ["pwd"], next: next, request: request, context: context)
            case .secondFactorRequired(_, let mfaToken):
                let csrf = csrfCookieValue(request)
                return Pages.mfa(action: "/oauth2/mfa", csrf: csrfToken(for: csrf.value), carried: carried(next) + [("mfa_token", mfaToken)], error: nil)
            }
        } catch let error as PortcullisError {
            return loginPage(next, request: request, username: username, error: Self.message(for: error))
        }
    }

    static func message(for error: PortcullisError) -> String {
        switch error {
        case .invalidCredentials: "Wrong username or password."
        case .throttled(let seconds): "Too many attempts. Try again in \(seconds) seconds."
        case .invalidCode: "That code is not valid. Try the current code from your app."
        case .invalidToken: "Your sign-in took too long. Please start again."
        default: error.description
        }
    }

    @Sendable func mfa(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form: FormParameters
        do { form = try await FormParameters.body(of: request, context: context) } catch let error as OAuthError { return Pages.error(error.description) }
        guard csrfIsValid(request, form: form) else { return Pages.error(Self.expiredForm, status: .forbidden) }
        let next: Continuation
        switch try await continuation(of: form) {
        case .value(let value): next = value
        case .page(let response): return response
        }
        let mfaToken = form["mfa_token"] ?? ""
        do {
            let user = try await auth.verifySecondFactor(mfaToken: mfaToken, code: form["code"] ?? "", remoteAddress: context.clientAddress)
            return try await loggedIn(user: user, amr: ["pwd", "otp"], next: next, request: request, context: context)
        } catch PortcullisError.invalidCode {
            let csrf = csrfCookieValue(request)
            return Pages.mfa(action: "/oauth2/mfa", csrf: csrfToken(for: csrf.value), carried: carried(next) + [("mfa_token", mfaToken)],
                             error: Self.message(for: .invalidCode))
        } catch let error as PortcullisError {
            return loginPage(next, request: request, error: Self.message(for: error))
        }
    }

    /// A new session (the old one ends: the cookie rotates at every login), then on to consent or the code.
    func loggedIn(user: User, amr: [String], next: Continuation, request: Request, context: PortcullisRequestContext) async throws -> Response {
        try await oauth.browserSessions.end(cookie: request.cookies[sessionCookie]?.value)
        let value = try await oauth.browserSessions.start(user: user, amr: amr)
        let sessionCookie = cookie(sessionCookie, value)
        switch next {
        case .account:
            return Self.redirect("/account/totp", cookies: [sessionCookie])
        case .authorization(let authorization):
            guard let (session, _) = try await oauth.browserSessions.session(cookie: value) else { return Pages.error("The session could not be started.") }
            let step = try await oauth.authorization.nextStep(for: authorization, session: session, user: user, justLoggedIn: true, remoteAddress: context.clientAddress)
            return render(step, authorization, user: user, request: request, cookies: [sessionCookie])
        }
    }

    // MARK: - Consent

    @Sendable func consent(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form: FormParameters
        do { form = try await FormParameters.body(of: request, context: context) } catch let error as OAuthError { return Pages.error(error.description) }
        guard csrfIsValid(request, form: form) else { return Pages.error(Self.expiredForm, status: .forbidden) }
        let authorization: AuthorizationRequest
        switch try await continuation(of: form) {
        case .value(.authorization(let value)): authorization = value
        case .value(.account): return Pages.error("Nothing to consent to.")
        case .page(let response): return response
        }
        guard let (session, user) = try await oauth.browserSessions.session(cookie: request.cookies[sessionCookie]?.value) else {
            return loginPage(.authorization(authorization), request: request, error: "Please sign in again.")
        }
        guard let decision = form["decision"], ["allow", "deny"].contains(decision) else { return Pages.error("Choose Allow or Deny.") }
        let location = try await oauth.authorization.answerConsent(authorization, session: session, user: user, approved: decision == "allow",
                                                     remoteAddress: context.clientAddress)
        return Self.redirect(location)
    }

    // MARK: - Logout (OIDC RP-initiated logout)

    /// Checks `post_logout_redirect_uri` against the client named by `client_id` or `id_token_hint`.
    func logoutTarget(_ parameters: FormParameters) async throws -> Outcome<String?> {
        guard let uri = parameters["post_logout_redirect_uri"] else { return .value(nil) }
        let clientID = parameters["client_id"] ?? parameters["id_token_hint"].flatMap(oauth.tokens.audience(ofIDTokenHint:))
        guard let clientID, let client = try await oauth.client(id: clientID), client.postLogoutRedirectURIs.contains(uri) else {
            return .page(Pages.error("The post_logout_redirect_uri is not registered for this application."))
        }
        return .value(AuthorizationResponse.location(uri, [("state", parameters["state"])]))
    }

    @Sendable func logoutGet(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let parameters: FormParameters
        do { parameters = try FormParameters.query(of: request) } catch { return Pages.error(error.description) }
        if case .page(let page) = try await logoutTarget(parameters) { return page }
        let csrf = csrfCookieValue(request)
        var response = Pages.logoutConfirm(csrf: csrfToken(for: csrf.value), carried: parameters.values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        if let setCookie = csrf.setCookie { response.headers.append(HTTPField(name: .setCookie, value: setCookie)) }
        return response
    }

    @Sendable func logoutPost(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form: FormParameters
        do { form = try await FormParameters.body(of: request, context: context) } catch let error as OAuthError { return Pages.error(error.description) }
        guard csrfIsValid(request, form: form) else { return Pages.error(Self.expiredForm, status: .forbidden) }
        let target: String?
        switch try await logoutTarget(form) {
        case .value(let value): target = value
        case .page(let page): return page
        }
        try await oauth.browserSessions.end(cookie: request.cookies[sessionCookie]?.value)
        let cleared = cookie(sessionCookie, "", maxAge: 0)
        if let target { return Self.redirect(target, cookies: [cleared]) }
        return Pages.signedOut(cookies: [cleared])
    }

    // MARK: - TOTP enrolment in the browser

    @Sendable func totpGet(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        guard let (_, user) = try await oauth.browserSessions.session(cookie: request.cookies[sessionCookie]?.value) else {
            return loginPage(.account, request: request, error: nil)
        }
        if try await auth.hasActiveTOTP(user) {
            return Pages.message(title: "Two-step verification is on", "Remove it through the API (DELETE /v1/me/mfa/totp) or ask an operator.")
        }
        let enrolment = try await auth.enrolTOTP(user: user, remoteAddress: context.clientAddress)
        let csrf = csrfCookieValue(request)
        var response = Pages.totpEnrolment(csrf: csrfToken(for: csrf.value), svg: try QRCode.svg(for: enrolment.otpauthURI),
                                           secret: enrolment.secret, error: nil)
        if let setCookie = csrf.setCookie { response.headers.append(HTTPField(name: .setCookie, value: setCookie)) }
        return response
    }

    @Sendable func totpPost(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let form: FormParameters
        do { form = try await FormParameters.body(of: request, context: context) } catch let error as OAuthError { return Pages.error(error.description) }
        guard csrfIsValid(request, form: form) else { return Pages.error(Self.expiredForm, status: .forbidden) }
        guard let (_, user) = try await oauth.browserSessions.session(cookie: request.cookies[sessionCookie]?.value) else {
            return loginPage(.account, request: request, error: "Please sign in again.")
        }
        do {
            return Pages.recoveryCodes(try await auth.confirmTOTP(user: user, code: form["code"] ?? "", remoteAddress: context.clientAddress))
        } catch let error as PortcullisError {
            return Pages.message(title: "That did not work", Self.message(for: error) + " Reload the page to start again.")
        }
    }
}
