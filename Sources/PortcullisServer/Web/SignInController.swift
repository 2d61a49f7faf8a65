import Hummingbird
import PortcullisCore

/// The sign-in forms: `/oauth2/login` (password) and `/oauth2/mfa` (second factor), returning to
/// an authorization request or to the account page.
struct SignInController: Sendable {
    let flow: PageFlow
    let auth: AuthService

    /// The two forms.
    var endpoints: RouteCollection<PageRequestContext> {
        let routes = RouteCollection(context: PageRequestContext.self)
        routes.post("/oauth2/login", use: login)
        routes.post("/oauth2/mfa", use: mfa)
        return routes
    }

    @Sendable func login(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await flow.continuing(context) { next in
            let username = context.parameters["username"] ?? ""
            do {
                switch try await auth.checkPassword(username: username, password: context.parameters["password"] ?? "", remoteAddress: context.clientAddress) {
                case .authenticated(let user):
                    return try await flow.signedIn(user: user, amr: ["pwd"], next: next, context: context)
                case .secondFactorRequired(_, let mfaToken, let methods):
                    return flow.secondFactorPage(next, mfaToken: mfaToken, methods: methods, context: context, error: nil)
                }
            } catch let error as PortcullisError {
                return flow.loginPage(next, context: context, username: username, error: PageFlow.message(for: error))
            }
        }
    }

    @Sendable func mfa(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await flow.continuing(context) { next in
            let mfaToken = context.parameters["mfa_token"] ?? ""
            do {
                let user = try await auth.verifySecondFactor(mfaToken: mfaToken, code: context.parameters["code"] ?? "", remoteAddress: context.clientAddress)
                return try await flow.signedIn(user: user, amr: ["pwd", "otp"], next: next, context: context)
            } catch PortcullisError.invalidCode {
                return flow.secondFactorPage(next, mfaToken: mfaToken, methods: PageFlow.secondFactorMethods(context.parameters),
                                             context: context, error: PageFlow.message(for: .invalidCode))
            } catch let error as PortcullisError {
                return flow.loginPage(next, context: context, error: PageFlow.message(for: error))
            }
        }
    }
}
