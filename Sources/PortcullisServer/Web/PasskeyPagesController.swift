import Foundation
import Hummingbird
import PortcullisCore
import PortcullisWebAuthn

/// Passkeys in the browser: "Sign in with a passkey" (passwordless), a passkey as the second
/// step after the password, and the account page that lists, adds, renames and removes them.
/// Every route is a CSRF-checked form; each ceremony page carries its options in a data block and
/// posts the credential back through `Pages.passkeyScript`.
struct PasskeyPagesController: Sendable {
    let flow: PageFlow
    let auth: AuthService

    /// The sign-in and account routes.
    var endpoints: RouteCollection<PageRequestContext> {
        let routes = RouteCollection(context: PageRequestContext.self)
        routes.post("/oauth2/passkey", use: passwordlessStart)
        routes.post("/oauth2/passkey/finish", use: passwordlessFinish)
        routes.post("/oauth2/mfa/passkey", use: secondFactorStart)
        routes.post("/oauth2/mfa/passkey/finish", use: secondFactorFinish)
        routes.get("/account/passkeys", use: list)
        routes.post("/account/passkeys/new", use: registrationStart)
        routes.post("/account/passkeys/register", use: registrationFinish)
        routes.post("/account/passkeys/rename", use: rename)
        routes.post("/account/passkeys/remove", use: remove)
        return routes
    }

    // MARK: Passwordless

    @Sendable func passwordlessStart(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await flow.continuing(context) { next in
            do {
                let (options, token) = try await auth.passwordlessOptions(username: nil, remoteAddress: context.clientAddress)
                return try Pages.passkeyCeremony(
                    title: "Sign in with a passkey", intro: "Use the passkey saved on this device, your phone or a security key.", mode: "get",
                    options: options, action: "/oauth2/passkey/finish", csrf: context.csrf.token,
                    carried: PageFlow.carried(next) + [("webauthn_token", token)], button: "Use a passkey", error: nil)
            } catch let error as PortcullisError {
                return flow.loginPage(next, context: context, error: PageFlow.message(for: error))
            }
        }
    }

    @Sendable func passwordlessFinish(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await flow.continuing(context) { next in
            do {
                guard let credential = Self.credential(context.parameters) else { throw PortcullisError.invalidCredentials }
                let signIn = try await auth.passwordlessSignIn(token: context.parameters["webauthn_token"] ?? "", credential: credential,
                                                               remoteAddress: context.clientAddress)
                return try await flow.signedIn(user: signIn.user, amr: signIn.amr, next: next, context: context)
            } catch PortcullisError.invalidCredentials {
                return flow.loginPage(next, context: context, error: "That passkey did not sign you in. Try again, or use your password.")
            } catch let error as PortcullisError {
                return flow.loginPage(next, context: context, error: PageFlow.message(for: error))
            }
        }
    }

    // MARK: Second factor

    @Sendable func secondFactorStart(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await flow.continuing(context) { next in
            let mfaToken = context.parameters["mfa_token"] ?? ""
            do {
                let options = try await auth.passkeySecondFactorOptions(mfaToken: mfaToken, remoteAddress: context.clientAddress)
                return try secondFactorPage(options: options, next: next, mfaToken: mfaToken, context: context, error: nil)
            } catch let error as PortcullisError {
                return flow.loginPage(next, context: context, error: PageFlow.message(for: error))
            }
        }
    }

    @Sendable func secondFactorFinish(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await flow.continuing(context) { next in
            let mfaToken = context.parameters["mfa_token"] ?? ""
            do {
                guard let credential = Self.credential(context.parameters) else { throw PortcullisError.invalidRequest("no passkey credential came") }
                let signIn = try await auth.verifyPasskeySecondFactor(mfaToken: mfaToken, credential: credential, remoteAddress: context.clientAddress)
                return try await flow.signedIn(user: signIn.user, amr: signIn.amrAfterPassword, next: next, context: context)
            } catch PortcullisError.invalidCredentials {
                // The mfa_token lives on (up to its failure limit): a new challenge, and another try.
                return flow.secondFactorPage(next, mfaToken: mfaToken, methods: PageFlow.secondFactorMethods(context.parameters),
                                             context: context, error: "That passkey was not accepted.")
            } catch let error as PortcullisError {
                return flow.loginPage(next, context: context, error: PageFlow.message(for: error))
            }
        }
    }

    private func secondFactorPage(options: PublicKeyCredentialRequestOptionsJSON, next: PageFlow.Continuation, mfaToken: String,
                                  context: PageRequestContext, error: String?) throws -> Response {
        try Pages.passkeyCeremony(
            title: "Two-step verification", intro: "Confirm it is you with your passkey.", mode: "get", options: options,
            action: "/oauth2/mfa/passkey/finish", csrf: context.csrf.token,
            carried: PageFlow.secondFactorFields(next, mfaToken: mfaToken, methods: PageFlow.secondFactorMethods(context.parameters)),
            button: "Use a passkey", error: error)
    }

    // MARK: Account

    @Sendable func list(_ request: Request, context: PageRequestContext) async throws -> Response {
        guard let user = context.session?.user else { return flow.loginPage(.passkeys, context: context, error: nil) }
        return Pages.passkeys(try await auth.passkeys(of: user), csrf: context.csrf.token, message: nil, error: nil)
    }

    @Sendable func registrationStart(_ request: Request, context: PageRequestContext) async throws -> Response {
        guard let user = context.session?.user else { return flow.loginPage(.passkeys, context: context, error: "Please sign in again.") }
        do {
            let options = try await auth.passkeyRegistrationOptions(user: user)
            return try Pages.passkeyCeremony(
                title: "Add a passkey", intro: "Name it, then follow your browser's prompt.", mode: "create", options: options,
                action: "/account/passkeys/register", csrf: context.csrf.token, carried: [],
                extraFields: #"<label for="name">Name</label><input id="name" name="name" maxlength="64" placeholder="Laptop">"#,
                button: "Create the passkey", error: nil)
        } catch let error as PortcullisError {
            return Pages.passkeys(try await auth.passkeys(of: user), csrf: context.csrf.token, message: nil, error: PageFlow.message(for: error))
        }
    }

    @Sendable func registrationFinish(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await changingPasskeys(context) { user in
            guard let credential = Self.credential(context.parameters) else { throw PortcullisError.invalidRequest("no passkey credential came") }
            let passkey = try await auth.registerPasskey(user: user, credential: credential, name: context.parameters["name"],
                                                         remoteAddress: context.clientAddress)
            return "Passkey “\(passkey.name)” added."
        }
    }

    @Sendable func rename(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await changingPasskeys(context) { user in
            try await auth.renamePasskey(user: user, id: context.parameters["id"] ?? "", name: context.parameters["name"] ?? "",
                                         remoteAddress: context.clientAddress)
            return "Renamed."
        }
    }

    @Sendable func remove(_ request: Request, context: PageRequestContext) async throws -> Response {
        try await changingPasskeys(context) { user in
            try await auth.removePasskey(user: user, id: context.parameters["id"] ?? "", password: context.parameters["password"],
                                         remoteAddress: context.clientAddress)
            return "Removed."
        }
    }

    /// Runs one change for the signed-in user, then shows the passkeys page with its message, or
    /// with the error when the change was refused (nothing changed then).
    private func changingPasskeys(_ context: PageRequestContext, _ change: (User) async throws -> String) async throws -> Response {
        guard let user = context.session?.user else { return flow.loginPage(.passkeys, context: context, error: "Please sign in again.") }
        var message: String?
        var error: String?
        do {
            message = try await change(user)
        } catch let refusal as PortcullisError {
            error = PageFlow.message(for: refusal)
        }
        return Pages.passkeys(try await auth.passkeys(of: user), csrf: context.csrf.token, message: message, error: error)
    }

    /// The credential the page's script posted (`PublicKeyCredential` as Level 3 JSON), if it decodes.
    static func credential(_ form: FormParameters) -> PublicKeyCredentialJSON? {
        guard let text = form["credential"], !text.isEmpty, text.utf8.count <= 32 * 1024 else { return nil }
        return try? JSONDecoder().decode(PublicKeyCredentialJSON.self, from: Data(text.utf8))
    }
}
