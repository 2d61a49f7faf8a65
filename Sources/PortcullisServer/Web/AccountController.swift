import Hummingbird
import PortcullisCore
import PortcullisQR

/// `/account/totp`: TOTP enrolment in the browser for the signed-in user (the form is CSRF-checked).
struct AccountController: Sendable {
    let flow: PageFlow
    let auth: AuthService

    /// The enrolment page and its form.
    var endpoints: RouteCollection<PageRequestContext> {
        let routes = RouteCollection(context: PageRequestContext.self)
        routes.get("/account/totp", use: enrolment)
        routes.post("/account/totp", use: confirm)
        return routes
    }

    @Sendable func enrolment(_ request: Request, context: PageRequestContext) async throws -> Response {
        guard let user = context.session?.user else { return flow.loginPage(.account, context: context, error: nil) }
        if try await auth.hasActiveTOTP(user) {
            return Pages.message(title: "Two-step verification is on", "Remove it through the API (DELETE /v1/me/mfa/totp) or ask an operator.")
        }
        let enrolment = try await auth.enrolTOTP(user: user, remoteAddress: context.clientAddress)
        return Pages.totpEnrolment(csrf: context.csrf.token, svg: try QRCode.svg(for: enrolment.otpauthURI), secret: enrolment.secret, error: nil)
    }

    @Sendable func confirm(_ request: Request, context: PageRequestContext) async throws -> Response {
        guard let user = context.session?.user else { return flow.loginPage(.account, context: context, error: "Please sign in again.") }
        do {
            return Pages.recoveryCodes(try await auth.confirmTOTP(user: user, code: context.parameters["code"] ?? "", remoteAddress: context.clientAddress))
        } catch let error as PortcullisError {
            return Pages.message(title: "That did not work", PageFlow.message(for: error) + " Reload the page to start again.")
        }
    }
}
