import Foundation
import Hummingbird
import HTTPTypes
import PortcullisCrypto

/// Server-rendered pages: plain, accessible HTML with one inline stylesheet, and one small inline
/// script on the passkey pages only (`passkeyScript`: WebAuthn has no HTML form).
///
/// Everything interpolated goes through `escape`; the CSP allows only that stylesheet and that
/// script (by hash) and inline SVG images, and forbids framing, plugins and every other script.
enum Pages {
    static let style = """
        body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
        main{max-width:26rem;margin:8vh auto;background:#fff;padding:2rem 2.25rem;border-radius:12px;box-shadow:0 2px 14px rgba(0,0,0,.08)}
        h1{font-size:1.4rem;margin:0 0 1rem}p{margin:.5rem 0 1rem}
        label{display:block;font-weight:600;margin:.9rem 0 .3rem}
        input{box-sizing:border-box;width:100%;padding:.6rem .7rem;font-size:1rem;border:1px solid #b8bfcc;border-radius:8px}
        input:focus{outline:3px solid #9cc3ff;border-color:#2f6fdb}
        button{margin-top:1.3rem;padding:.65rem 1.2rem;font-size:1rem;border-radius:8px;border:1px solid #2f6fdb;background:#2f6fdb;color:#fff;cursor:pointer}
        button.secondary{background:#fff;color:#2f6fdb;margin-left:.5rem}
        [role=alert]{background:#fdecec;border:1px solid #f3b4b4;color:#8a1c1c;padding:.6rem .8rem;border-radius:8px}
        ul.scopes{padding-left:1.2rem}code{background:#eef1f6;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
        .brand{color:#5a6476;font-size:.9rem;margin-bottom:1.5rem}svg{max-width:14rem;height:auto}
        """

    /// `Content-Security-Policy` for every page.
    static let contentSecurityPolicy: String = {
        func hash(_ text: String) -> String { Data(Digest.sha256(Array(text.utf8))).base64EncodedString() }
        return "default-src 'none'; style-src 'sha256-\(hash(style))'; script-src 'sha256-\(hash(passkeyScript))'; img-src data:; "
            + "frame-ancestors 'none'; base-uri 'none'"
    }()

    /// HTML-escapes text for element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A whole page with security headers; `body` must already be escaped.
    static func response(title: String, body: String, status: HTTPResponse.Status = .ok, cookies: [String] = []) -> Response {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <meta name="referrer" content="no-referrer"><title>\(escape(title)) · Portcullis</title><style>\(style)</style></head>
            <body><main><div class="brand">Portcullis</div><h1>\(escape(title))</h1>
            \(body)
            </main></body></html>
            """
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .init("Content-Security-Policy")!: contentSecurityPolicy,
            .init("X-Frame-Options")!: "DENY",
            .init("Referrer-Policy")!: "no-referrer",
        ]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func hidden(_ name: String, _ value: String) -> String {
        "<input type=\"hidden\" name=\"\(escape(name))\" value=\"\(escape(value))\">"
    }

    static func alert(_ message: String?) -> String {
        message.map { "<p role=\"alert\">\(escape($0))</p>" } ?? ""
    }

    /// The sign-in page: the password form and "Sign in with a passkey"; only the latter when the
    /// client asked for phishing-resistant authentication (`passkeyOnly`).
    static func login(action: String, csrf: String, carried: [(String, String)], username: String, error: String?, clientName: String?,
                      passkeyOnly: Bool = false, cookies: [String] = []) -> Response {
        var intro = clientName.map { "<p>Sign in to continue to <strong>\(escape($0))</strong>.</p>" } ?? "<p>Sign in to your account.</p>"
        if passkeyOnly { intro += "<p>This application asks you to sign in with a passkey.</p>" }
        let fields = hidden("csrf", csrf) + carried.map { hidden($0.0, $0.1) }.joined()
        let password = passkeyOnly ? "" : """
            <form id="login" method="post" action="\(escape(action))">
            \(fields)
            <label for="username">Username</label>
            <input id="username" name="username" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required value="\(escape(username))">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required>
            <button type="submit">Sign in</button>
            </form>
            """
        return response(title: "Sign in", body: """
            \(intro)\(alert(error))
            \(password)
            <form id="passkey" method="post" action="/oauth2/passkey">
            \(fields)
            <button type="submit"\(passkeyOnly ? "" : " class=\"secondary\"")>Sign in with a passkey</button>
            </form>
            """, status: error == nil ? .ok : .unauthorized, cookies: cookies)
    }

    /// The second step: a code form when TOTP is on, a passkey button when the user has a passkey.
    static func mfa(action: String, csrf: String, carried: [(String, String)], methods: [String] = ["totp"], error: String?,
                    cookies: [String] = []) -> Response {
        let fields = hidden("csrf", csrf) + carried.map { hidden($0.0, $0.1) }.joined()
        var forms = ""
        if methods.contains("totp") {
            forms += """
                <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>\(alert(error))
                <form id="mfa" method="post" action="\(escape(action))">
                \(fields)
                <label for="code">Code</label>
                <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required autofocus>
                <button type="submit">Verify</button>
                </form>
                """
        } else {
            forms += "<p>Confirm it is you with your passkey.</p>\(alert(error))"
        }
        if methods.contains("webauthn") {
            forms += """
                <form id="mfa-passkey" method="post" action="/oauth2/mfa/passkey">
                \(fields)
                <button type="submit"\(methods.contains("totp") ? " class=\"secondary\"" : "")>Use a passkey</button>
                </form>
                """
        }
        return response(title: "Two-step verification", body: forms, status: error == nil ? .ok : .unauthorized, cookies: cookies)
    }

    static let scopeDescriptions = [
        "openid": "Confirm your identity", "profile": "See your username", "email": "See your email address",
        "offline_access": "Stay signed in to the app (refresh tokens)",
    ]

    static func consent(csrf: String, query: String, clientName: String, username: String, scopes: [String], cookies: [String] = []) -> Response {
        let items = scopes.map { scope in
            "<li>\(escape(scopeDescriptions[scope] ?? "Use \(scope)")) <code>\(escape(scope))</code></li>"
        }.joined()
        return response(title: "Allow access?", body: """
            <p><strong>\(escape(clientName))</strong> asks to access your account <strong>\(escape(username))</strong>:</p>
            <ul class="scopes">\(items)</ul>
            <form id="consent" method="post" action="/oauth2/consent">
            \(hidden("csrf", csrf))\(hidden("request", query))
            <button type="submit" name="decision" value="allow">Allow</button>
            <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
            </form>
            """, cookies: cookies)
    }

    static func error(_ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        response(title: "Something is wrong with this request", body: """
            \(alert(message))
            <p>Go back to the application and try again. If it keeps happening, tell the application's developers.</p>
            """, status: status)
    }

    static func logoutConfirm(csrf: String, carried: [(String, String)]) -> Response {
        response(title: "Sign out?", body: """
            <form id="logout" method="post" action="/oauth2/logout">
            \(hidden("csrf", csrf))\(carried.map { hidden($0.0, $0.1) }.joined())
            <button type="submit">Sign out</button>
            </form>
            """)
    }

    static func signedOut(cookies: [String]) -> Response {
        response(title: "You are signed out", body: "<p>You can close this window.</p>", cookies: cookies)
    }

    static func totpEnrolment(csrf: String, svg: String, secret: String, error: String?) -> Response {
        response(title: "Set up two-step verification", body: """
            <p>Scan this code with an authenticator app (or type the key), then enter the code it shows.</p>
            <div>\(svg)</div>
            <p>Key: <code>\(escape(secret))</code></p>\(alert(error))
            <form id="totp" method="post" action="/account/totp">
            \(hidden("csrf", csrf))
            <label for="code">Code</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
            <button type="submit">Turn on</button>
            </form>
            """)
    }

    static func recoveryCodes(_ codes: [String]) -> Response {
        response(title: "Two-step verification is on", body: """
            <p>Keep these recovery codes somewhere safe. Each works once if you lose your device. They are shown only now.</p>
            <ul class="scopes">\(codes.map { "<li><code>\(escape($0))</code></li>" }.joined())</ul>
            """)
    }

    static func message(title: String, _ text: String) -> Response {
        response(title: title, body: "<p>\(escape(text))</p>")
    }
}
