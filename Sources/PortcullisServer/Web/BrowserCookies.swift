import Foundation
import Hummingbird
import PortcullisCrypto

/// The pages' two cookies and the CSRF tokens derived from one of them.
///
/// On https issuers the names carry the `__Host-` prefix (RFC 6265bis section 4.1.3.2: Secure,
/// Path=/, no Domain, so no sibling host can set or shadow them). A form's CSRF token is an HMAC
/// of the browser's CSRF cookie under a key derived from the secrets key (signed double-submit).
struct BrowserCookies: Sendable {
    let sessionName: String
    let csrfName: String
    let secure: Bool
    private let csrfKey: [UInt8]

    /// Cookies for pages served at `issuer`; `secretsKey` keys the CSRF tokens.
    init(issuer: String, secretsKey: [UInt8]) {
        secure = issuer.lowercased().hasPrefix("https://")
        sessionName = (secure ? "__Host-" : "") + "portcullis_session"
        csrfName = (secure ? "__Host-" : "") + "portcullis_csrf"
        csrfKey = HMAC.authenticationCode(.sha256, key: secretsKey, message: Array("portcullis-csrf-v1".utf8))
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure on https.
    func setCookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var text = "\(name)=\(value); Path=/; HttpOnly; SameSite=Lax"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if secure { text += "; Secure" }
        return text
    }

    /// The browser's CSRF cookie, or a new one when it has none (or a malformed one).
    func csrfCookie(of request: Request) -> CSRFCookie {
        if let value = request.cookies[csrfName]?.value, value.count >= 32, value.count <= 64 {
            return CSRFCookie(value: value, token: csrfToken(for: value), isNew: false)
        }
        let value = SecureRandom.token()
        return CSRFCookie(value: value, token: csrfToken(for: value), isNew: true)
    }

    func csrfToken(for cookieValue: String) -> String {
        Base64URL.encode(HMAC.authenticationCode(.sha256, key: csrfKey, message: Array(cookieValue.utf8)))
    }
}
