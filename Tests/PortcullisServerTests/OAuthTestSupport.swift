import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PortcullisCore
import PortcullisCrypto
import PortcullisServer
import Synchronization
import Testing

let redirectURI = "https://app.example/callback"

/// A PKCE pair (RFC 7636): a 64-character verifier and its S256 challenge.
struct PKCE {
    let verifier: String
    let challenge: String

    init() {
        verifier = SecureRandom.token(byteCount: 48)
        challenge = Base64URL.encode(Digest.sha256(verifier))
    }
}

extension Harness {
    /// Registers a client; returns its secret (nil for public clients).
    @discardableResult
    func addClient(_ id: String = "app", name: String = "Example App", isPublic: Bool = false, redirectURIs: [String] = [redirectURI],
                   postLogout: [String] = [], firstParty: Bool = false, grantTypes: [GrantType] = [], resources: [String] = [], pkceRequired: Bool = true,
                   algorithm: JWSAlgorithm = .rs256) async throws -> String? {
        try await ClientAdministration(store: store).register(
            id: id, name: name, isPublic: isPublic, redirectURIs: redirectURIs, postLogoutRedirectURIs: postLogout,
            scopes: ["documents"], grantTypes: grantTypes, resources: resources, pkceRequired: pkceRequired, idTokenAlgorithm: algorithm, firstParty: firstParty).1
    }
}

/// A browser: keeps cookies, reads hidden form fields, never follows redirects.
final class Browser: Sendable {
    let client: any TestClientProtocol
    private let jar = Mutex<[String: String]>([:])

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    var cookies: [String: String] { jar.withLock { $0 } }

    func send(_ uri: String, method: HTTPRequest.Method, form: [String: String]? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        let cookieHeader = jar.withLock { $0.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if !cookieHeader.isEmpty { headers[.cookie] = cookieHeader }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: formEncode(form))
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            jar.withLock { if value.isEmpty { $0[name] = nil } else { $0[name] = value } }
        }
        return response
    }

    func get(_ uri: String) async throws -> TestResponse { try await send(uri, method: .get) }
    func post(_ uri: String, _ form: [String: String]) async throws -> TestResponse { try await send(uri, method: .post, form: form) }
}

func formEncode(_ form: [String: String]) -> String {
    form.map { "\(AuthorizationResponse.formEncode($0.key))=\(AuthorizationResponse.formEncode($0.value))" }.joined(separator: "&")
}

/// `/oauth2/authorize?…` for the given parameters.
func authorizeURI(_ parameters: [String: String]) -> String {
    "/oauth2/authorize?" + formEncode(parameters)
}

func standardRequest(client: String = "app", scope: String = "openid profile email offline_access", pkce: PKCE? = PKCE(),
                     state: String = "st-123", extra: [String: String] = [:]) -> [String: String] {
    var parameters = ["response_type": "code", "client_id": client, "redirect_uri": redirectURI, "scope": scope, "state": state, "nonce": "n-456"]
    if let pkce {
        parameters["code_challenge"] = pkce.challenge
        parameters["code_challenge_method"] = "S256"
    }
    return parameters.merging(extra) { $1 }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The hidden inputs of the page's form, unescaped.
    var hiddenFields: [String: String] {
        var fields: [String: String] = [:]
        let pattern = #/<input type="hidden" name="([^"]+)" value="([^"]*)">/#
        for match in text.matches(of: pattern) {
            fields[String(match.1)] = String(match.2)
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
        }
        return fields
    }

    var location: String? { headers[.location] }

    /// The query parameters of the Location header.
    var redirectParameters: [String: String] {
        guard let location, let items = URLComponents(string: location)?.queryItems else { return [:] }
        return Dictionary(items.map { ($0.name, $0.value ?? "") }) { first, _ in first }
    }
}

extension Browser {
    /// Signs in on the login page the authorize request shows; returns the next response.
    func signIn(_ parameters: [String: String], username: String = "alice", password: String = "correct horse") async throws -> TestResponse {
        let page = try await get(authorizeURI(parameters))
        #expect(page.status == .ok, "login page expected: \(page.text.prefix(300))")
        #expect(page.text.contains("id=\"login\""))
        var form = page.hiddenFields
        form["username"] = username
        form["password"] = password
        return try await post("/oauth2/login", form)
    }

    /// Answers the consent page in `page`.
    func consent(_ page: TestResponse, allow: Bool) async throws -> TestResponse {
        #expect(page.text.contains("id=\"consent\""), "consent page expected: \(page.text.prefix(300))")
        var form = page.hiddenFields
        form["decision"] = allow ? "allow" : "deny"
        return try await post("/oauth2/consent", form)
    }

    /// Runs login and consent; returns the code from the redirect.
    func authorize(_ parameters: [String: String]) async throws -> String {
        let afterLogin = try await signIn(parameters)
        let redirect = afterLogin.status == .seeOther ? afterLogin : try await consent(afterLogin, allow: true)
        #expect(redirect.status == .seeOther)
        #expect(redirect.redirectParameters["state"] == parameters["state"])
        return try #require(redirect.redirectParameters["code"], "no code in \(redirect.location ?? "-")")
    }
}

extension TestClientProtocol {
    /// POSTs a form to the token endpoint with Basic client authentication (or none).
    func token(_ form: [String: String], client: String? = "app", secret: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        var form = form
        if let client {
            if let secret {
                let credentials = "\(AuthorizationResponse.formEncode(client)):\(AuthorizationResponse.formEncode(secret))"
                headers[.authorization] = "Basic " + Data(credentials.utf8).base64EncodedString()
            } else {
                form["client_id"] = client
            }
        }
        return try await execute(uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: formEncode(form)))
    }

    func form(_ uri: String, _ form: [String: String], basic: (String, String)? = nil, bearer: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let basic { headers[.authorization] = "Basic " + Data("\(basic.0):\(basic.1)".utf8).base64EncodedString() }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: formEncode(form)))
    }
}
