public import Hummingbird
public import NIOCore
import PortcullisCore

/// The context of the browser pages (`/oauth2/authorize`, sign-in, consent, logout, `/account`):
/// the request's parameters, its CSRF token and its browser session, each filled in once by the
/// pages' middleware before a handler runs.
public struct PageRequestContext: ChildRequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connected peer, nil in router tests.
    public let remoteAddress: SocketAddress?
    /// The query (safe methods) or form body (unsafe methods); set by `PageFormMiddleware`.
    var parameters = FormParameters.empty
    /// The browser's CSRF cookie value and the token forms carry; set by `CSRFCookieMiddleware`.
    var csrf = CSRFCookie(value: "", token: "", isNew: true)
    /// The signed-in browser session, if the session cookie names a live one; set by `BrowserSessionMiddleware`.
    var session: SignedInSession?
    /// The raw session cookie, live or not (a new sign-in ends the session it names).
    var sessionCookie: String?

    /// Narrows the base context to a page context.
    public init(context: PortcullisRequestContext) {
        self.coreContext = context.coreContext
        self.remoteAddress = context.remoteAddress
        self.clientAddress = context.clientAddress
    }

    /// Bodies beyond this get 413.
    public var maxUploadSize: Int { PortcullisRequestContext.bodyLimit }

    /// The client's IP address as text, or `unknown` (the base context's).
    public let clientAddress: String
}

/// A browser session and its user.
struct SignedInSession: Sendable {
    let session: BrowserSession
    let user: User
}

/// The browser's CSRF cookie and the token a form must echo.
struct CSRFCookie: Sendable {
    let value: String
    let token: String
    /// True when the browser sent none: a `Set-Cookie` goes out with the response.
    let isNew: Bool
}
