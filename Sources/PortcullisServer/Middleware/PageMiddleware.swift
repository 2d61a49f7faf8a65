import Hummingbird
import HTTPTypes
import PortcullisCore
import PortcullisCrypto

/// Parses a page request's parameters once: the query string of a safe method, the
/// form body of an unsafe one. A malformed request gets an error page.
struct PageFormMiddleware: RouterMiddleware {
    typealias Context = PageRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        do {
            context.parameters = request.method.isSafe
                ? try FormParameters.query(of: request)
                : try await FormParameters.body(of: request, limit: context.maxUploadSize)
        } catch let error as OAuthError {
            return Pages.error(error.description)
        }
        return try await next(request, context)
    }
}

/// Gives every page the browser's CSRF cookie and the token its forms carry, setting the cookie
/// on the response when the browser had none.
struct CSRFCookieMiddleware: RouterMiddleware {
    typealias Context = PageRequestContext
    let cookies: BrowserCookies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.csrf = cookies.csrfCookie(of: request)
        var response = try await next(request, context)
        if context.csrf.isNew {
            response.headers.append(HTTPField(name: .setCookie, value: cookies.setCookie(cookies.csrfName, context.csrf.value)))
        }
        return response
    }
}

/// Refuses (403, an error page) every unsafe request whose form does not echo the CSRF token of
/// the browser's CSRF cookie: checked here once, for every form route behind it.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = PageRequestContext

    static let expiredForm = "This form has expired or did not come from this site. Go back to the application and start again."

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if !request.method.isSafe {
            guard !context.csrf.isNew, let presented = context.parameters["csrf"],
                  ConstantTime.equals(Array(context.csrf.token.utf8), Array(presented.utf8)) else {
                return Pages.error(Self.expiredForm, status: .forbidden)
            }
        }
        return try await next(request, context)
    }
}

/// Looks up the browser session the session cookie names, once per page request.
struct BrowserSessionMiddleware: RouterMiddleware {
    typealias Context = PageRequestContext
    let sessions: BrowserSessions
    let cookies: BrowserCookies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.sessionCookie = request.cookies[cookies.sessionName]?.value
        if let (session, user) = try await sessions.session(cookie: context.sessionCookie) {
            context.session = SignedInSession(session: session, user: user)
        }
        return try await next(request, context)
    }
}

extension HTTPRequest.Method {
    /// GET, HEAD and OPTIONS change nothing (RFC 9110 section 9.2.1).
    var isSafe: Bool { self == .get || self == .head || self == .options }
}
