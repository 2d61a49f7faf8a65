import Foundation

/// OAuth error codes of RFC 6749 sections 4.1.2.1 and 5.2, OIDC Core 3.1.2.6 and RFC 7009.
public enum OAuthErrorCode: String, Sendable {
    case invalidRequest = "invalid_request"
    case invalidClient = "invalid_client"
    case invalidGrant = "invalid_grant"
    case unauthorizedClient = "unauthorized_client"
    case unsupportedGrantType = "unsupported_grant_type"
    case unsupportedResponseType = "unsupported_response_type"
    case invalidScope = "invalid_scope"
    case accessDenied = "access_denied"
    case loginRequired = "login_required"
    case consentRequired = "consent_required"
    case requestNotSupported = "request_not_supported"
    case requestURINotSupported = "request_uri_not_supported"
    case unsupportedTokenType = "unsupported_token_type"
    case insufficientScope = "insufficient_scope"
    case invalidTarget = "invalid_target"
}

/// An error of the OAuth endpoints, answered in RFC 6749's shape.
public struct OAuthError: Error, Sendable, Equatable {
    /// The RFC error code.
    public let code: OAuthErrorCode
    /// `error_description`.
    public let description: String

    /// Creates an error.
    public init(_ code: OAuthErrorCode, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// Why an authorization request cannot even be answered with a redirect: shown as an error page.
public struct AuthorizationRequestRejected: Error, Sendable, Equatable {
    /// What is wrong, for the page.
    public let message: String
}

/// An authorization request whose client and redirect URI are known to be good.
public struct AuthorizationRequest: Sendable, Equatable {
    /// The client.
    public let client: OAuthClient
    /// The redirect URI as sent (validated against the client's).
    public let redirectURI: String
    /// `state`, returned unchanged.
    public let state: String?
    /// Requested scopes, in request order, deduplicated.
    public let scopes: [String]
    /// OIDC nonce.
    public let nonce: String?
    /// PKCE S256 challenge.
    public let codeChallenge: String?
    /// `prompt` values (`none`, `login`, `consent`).
    public let prompt: Set<String>
    /// `max_age` in seconds.
    public let maxAge: Int?
    /// `acr_values`, in request order (OIDC Core section 3.1.2.1).
    public var acrValues: [String] = []
    /// True when the client asked for phishing-resistant authentication (`acr_values` holds
    /// `phr`): only a passkey sign-in satisfies it.
    public var requiresPhishingResistance: Bool { acrValues.contains(AuthenticationContext.phishingResistant) }
    /// RFC 8707 `resource` values, each registered on the client.
    public let resources: [String]
    /// The query string it came from, to carry through the login, MFA and consent forms.
    public let query: String

    /// The granted scope string.
    public var scope: String { scopes.joined(separator: " ") }
}

/// What an authorization request that fails after the redirect URI is validated gets: a redirect.
public struct AuthorizationErrorRedirect: Error, Sendable, Equatable {
    /// The full redirect URL with `error`, `error_description`, `state`, `iss`.
    public let location: String
}

/// Builds redirect URLs to a client: `code` or `error`, always with `state` and `iss` (RFC 9207).
public enum AuthorizationResponse {
    /// `redirectURI` with the given parameters appended to its query.
    public static func location(_ redirectURI: String, _ parameters: [(String, String?)]) -> String {
        var components = URLComponents(string: redirectURI) ?? URLComponents()
        var items = components.queryItems ?? []
        for (name, value) in parameters {
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        components.percentEncodedQuery = items.map { "\(formEncode($0.name))=\(formEncode($0.value ?? ""))" }.joined(separator: "&")
        return components.string ?? redirectURI
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986), so `+` and `&` survive.
    public static func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

extension OAuthClient {
    /// True when `uri` is one of the registered redirect URIs: exact string match, except that a
    /// registered `http://127.0.0.1` or `http://[::1]` URI matches any port (RFC 8252 section 7.3).
    public func allowsRedirect(to uri: String) -> Bool {
        if redirectURIs.contains(uri) { return true }
        guard let presented = URLComponents(string: uri), presented.scheme == "http",
              presented.host == "127.0.0.1" || presented.host == "[::1]" || presented.host == "::1",
              presented.user == nil, presented.password == nil, presented.fragment == nil else { return false }
        var portless = presented
        portless.port = nil
        guard let withoutPort = portless.string else { return false }
        return redirectURIs.contains { registered in
            guard let components = URLComponents(string: registered), components.port == nil else { return false }
            return registered == withoutPort
        }
    }

    /// Checks a client's registration data; resources must be absolute URIs without a fragment (RFC 8707 section 2).
    public static func validate(redirectURIs: [String], scopes: [String], resources: [String] = []) throws {
        for resource in resources {
            guard let components = URLComponents(string: resource), components.scheme != nil, components.host?.isEmpty == false,
                  components.fragment == nil, resource.utf8.count <= 512 else {
                throw PortcullisError.invalidRequest("resource \(resource) is not an absolute URI without a fragment")
            }
        }
        for uri in redirectURIs {
            guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(), components.fragment == nil else {
                throw PortcullisError.invalidRequest("redirect URI \(uri) is not an absolute URI without a fragment")
            }
            if scheme == "http" {
                let host = components.host ?? ""
                guard ["127.0.0.1", "[::1]", "::1", "localhost"].contains(host) else {
                    throw PortcullisError.invalidRequest("redirect URI \(uri): plain http is only allowed for loopback addresses")
                }
            } else if scheme != "https", !scheme.contains(".") {
                throw PortcullisError.invalidRequest("redirect URI \(uri): use https, loopback http, or a reverse-DNS private scheme (RFC 8252)")
            }
        }
        for scope in scopes where scope.isEmpty || !scope.allSatisfy({ $0.isASCII && $0 != " " && $0 != "\"" && $0 != "\\" && !$0.isWhitespace }) {
            throw PortcullisError.invalidRequest("scope '\(scope)' is not a valid scope token")
        }
    }
}

extension AuthorizationRequest {
    /// Largest accepted value of any one parameter.
    static let maximumParameterLength = 2048

    /// Validates `/oauth2/authorize` parameters (already split; a repeated parameter other than
    /// `resource` is refused by the caller, which passes the `resource` values apart).
    ///
    /// - Throws: `AuthorizationRequestRejected` while the client or redirect URI is unknown (an error page,
    ///   never a redirect); `AuthorizationErrorRedirect` for every later problem.
    public static func validate(_ parameters: [String: String], resources: [String] = [], query: String, issuer: String,
                                client lookup: (String) async throws -> OAuthClient?) async throws -> AuthorizationRequest {
        guard parameters.values.allSatisfy({ $0.utf8.count <= maximumParameterLength }) else {
            throw AuthorizationRequestRejected(message: "A parameter is too long.")
        }
        guard let clientID = parameters["client_id"], !clientID.isEmpty else {
            throw AuthorizationRequestRejected(message: "The request has no client_id.")
        }
        guard let client = try await lookup(clientID) else {
            throw AuthorizationRequestRejected(message: "The application is not registered here.")
        }
        guard let redirectURI = parameters["redirect_uri"], !redirectURI.isEmpty else {
            throw AuthorizationRequestRejected(message: "The request has no redirect_uri.")
        }
        guard client.allowsRedirect(to: redirectURI) else {
            throw AuthorizationRequestRejected(message: "The redirect_uri is not registered for this application.")
        }
        let state = parameters["state"]
        func fail(_ code: OAuthErrorCode, _ description: String) -> AuthorizationErrorRedirect {
            AuthorizationErrorRedirect(location: AuthorizationResponse.location(redirectURI, [
                ("error", code.rawValue), ("error_description", description), ("state", state), ("iss", issuer),
            ]))
        }
        if parameters["request"] != nil { throw fail(.requestNotSupported, "request objects are not supported") }
        if parameters["request_uri"] != nil { throw fail(.requestURINotSupported, "request_uri is not supported") }
        guard let responseType = parameters["response_type"] else { throw fail(.invalidRequest, "response_type is required") }
        guard responseType == "code" else { throw fail(.unsupportedResponseType, "only response_type=code is supported") }
        guard client.grantTypes.contains(.authorizationCode) else {
            throw fail(.unauthorizedClient, "this client may not use the authorization code grant")
        }
        let scopes = Scope(parsing: parameters["scope"] ?? "").tokens
        guard !scopes.isEmpty else { throw fail(.invalidScope, "scope is required") }
        if let unknown = scopes.first(where: { !client.scopes.contains($0) }) {
            throw fail(.invalidScope, "scope \(unknown) is not allowed for this client")
        }
        let challenge = parameters["code_challenge"]
        let method = parameters["code_challenge_method"]
        if let challenge {
            guard (method ?? "plain") == "S256" else { throw fail(.invalidRequest, "code_challenge_method must be S256") }
            guard (43...128).contains(challenge.count), challenge.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }) else {
                throw fail(.invalidRequest, "code_challenge is malformed")
            }
        } else {
            guard method == nil else { throw fail(.invalidRequest, "code_challenge_method without code_challenge") }
            // RFC 9700 section 2.1.1: PKCE for every client, unless a confidential one is registered `--pkce optional`.
            guard !client.isPublic, !client.pkceRequired else {
                throw fail(.invalidRequest, "PKCE (code_challenge with S256) is required for this client")
            }
        }
        let prompt = Set((parameters["prompt"] ?? "").split(separator: " ").map(String.init))
        guard prompt.isSubset(of: ["none", "login", "consent", "select_account"]) else { throw fail(.invalidRequest, "unknown prompt value") }
        guard !prompt.contains("none") || prompt.count == 1 else { throw fail(.invalidRequest, "prompt=none cannot be combined") }
        var maxAge: Int?
        if let text = parameters["max_age"] {
            guard let value = Int(text), value >= 0 else { throw fail(.invalidRequest, "max_age must be a non-negative integer") }
            maxAge = value
        }
        guard resources.allSatisfy({ $0.utf8.count <= maximumParameterLength }) else { throw fail(.invalidRequest, "resource is too long") }
        if let bad = resources.first(where: { !client.resources.contains($0) }) {
            throw fail(.invalidTarget, "resource \(bad) is not registered for this client")
        }
        let nonce = parameters["nonce"]
        var request = AuthorizationRequest(client: client, redirectURI: redirectURI, state: state, scopes: scopes, nonce: nonce,
                                           codeChallenge: challenge, prompt: prompt, maxAge: maxAge, resources: resources, query: query)
        request.acrValues = (parameters["acr_values"] ?? "").split(separator: " ").map(String.init)
        return request
    }

    /// The redirect for an error after validation.
    public func errorRedirect(_ code: OAuthErrorCode, _ description: String, issuer: String) -> String {
        AuthorizationResponse.location(redirectURI, [("error", code.rawValue), ("error_description", description), ("state", state), ("iss", issuer)])
    }
}
