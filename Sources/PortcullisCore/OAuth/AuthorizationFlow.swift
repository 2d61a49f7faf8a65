public import Foundation
import PortcullisCrypto

/// The authorization endpoint's decisions (RFC 6749 section 4.1.1, OIDC Core 3.1.2): login,
/// consent, or a code for a validated request and the browser's session.
public struct AuthorizationFlow: Sendable {
    /// Authorization codes live this long.
    public static let codeLifetime: TimeInterval = 60

    let auth: AuthService
    let store: any ConsentStore & AuthorizationCodeStore

    /// The flow over the consents and codes in `store` and `auth`'s audit log.
    public init(auth: AuthService, store: any ConsentStore & AuthorizationCodeStore) {
        self.auth = auth
        self.store = store
    }

    var issuer: String { auth.configuration.issuer }

    /// What the authorization endpoint should do next.
    public enum NextStep: Sendable, Equatable {
        /// Show the login page.
        case login
        /// Show the login page offering only a passkey: the client asked for `acr_values=phr`.
        case passkeyLogin
        /// Show the consent page for these scopes.
        case consent
        /// Redirect to this URL (a code, or an error such as `login_required`).
        case redirect(String)
    }

    /// Decides between login, consent and a code for a validated request.
    public func nextStep(for request: AuthorizationRequest, session: BrowserSession?, user: User?, justLoggedIn: Bool,
                         remoteAddress: String) async throws -> NextStep {
        guard let session, let user else {
            if request.prompt.contains("none") { return .redirect(request.errorRedirect(.loginRequired, "no login session", issuer: issuer)) }
            return request.requiresPhishingResistance ? .passkeyLogin : .login
        }
        if request.requiresPhishingResistance && AuthenticationContext.acr(amr: session.amr) != AuthenticationContext.phishingResistant {
            if request.prompt.contains("none") {
                return .redirect(request.errorRedirect(.loginRequired, "a passkey sign-in is required", issuer: issuer))
            }
            return .passkeyLogin
        }
        if !justLoggedIn {
            let tooOld = request.maxAge.map { auth.clock().timeIntervalSince(session.authTime) > TimeInterval($0) } ?? false
            if request.prompt.contains("login") || tooOld {
                if request.prompt.contains("none") { return .redirect(request.errorRedirect(.loginRequired, "login is too old", issuer: issuer)) }
                return request.requiresPhishingResistance ? .passkeyLogin : .login
            }
        }
        if try await needsConsent(request, user: user) {
            if request.prompt.contains("none") { return .redirect(request.errorRedirect(.consentRequired, "consent is required", issuer: issuer)) }
            return .consent
        }
        return .redirect(try await issueCode(for: request, session: session, user: user, remoteAddress: remoteAddress))
    }

    func needsConsent(_ request: AuthorizationRequest, user: User) async throws -> Bool {
        if request.client.firstParty { return false }
        if request.prompt.contains("consent") { return true }
        let granted = try await store.consentedScopes(userID: user.id, clientID: request.client.id)
        return !Set(request.scopes).isSubset(of: granted)
    }

    /// Records the user's answer on the consent page and returns the redirect.
    public func answerConsent(_ request: AuthorizationRequest, session: BrowserSession, user: User, approved: Bool, remoteAddress: String) async throws -> String {
        let now = auth.clock()
        guard approved else {
            try await auth.audit("oauth.consent.denied", actor: user.id, subject: request.client.id, address: remoteAddress, detail: request.scope, at: now)
            return request.errorRedirect(.accessDenied, "the user denied the request", issuer: issuer)
        }
        try await store.recordConsent(userID: user.id, clientID: request.client.id, scopes: Set(request.scopes), at: now)
        try await auth.audit("oauth.consent.granted", actor: user.id, subject: request.client.id, address: remoteAddress, detail: request.scope, at: now)
        return try await issueCode(for: request, session: session, user: user, remoteAddress: remoteAddress)
    }

    func issueCode(for request: AuthorizationRequest, session: BrowserSession, user: User, remoteAddress: String) async throws -> String {
        let now = auth.clock()
        let code = SecureRandom.token()
        try await store.createAuthorizationCode(AuthorizationCodeRecord(
            codeHash: AuthService.hash(code), clientID: request.client.id, userID: user.id, redirectURI: request.redirectURI,
            scope: request.scope, nonce: request.nonce, codeChallenge: request.codeChallenge, authTime: session.authTime,
            amr: session.amr, resources: request.resources, expiresAt: now.addingTimeInterval(Self.codeLifetime)))
        try await auth.audit("oauth.authorize", actor: user.id, subject: request.client.id, address: remoteAddress, detail: request.scope, at: now)
        return AuthorizationResponse.location(request.redirectURI, [("code", code), ("state", request.state), ("iss", issuer)])
    }
}
