import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PortcullisCore
import PortcullisCrypto
import PortcullisServer
import Testing

@Suite struct OAuthFlowTests {
    @Test func discoveryListsEveryEndpointAndCapability() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
                let document = try await client.get(path).json()
                #expect(document["issuer"] as? String == "http://portcullis.test")
                for (key, suffix) in ["authorization_endpoint": "/oauth2/authorize", "token_endpoint": "/oauth2/token", "jwks_uri": "/.well-known/jwks.json",
                                      "revocation_endpoint": "/oauth2/revoke", "introspection_endpoint": "/oauth2/introspect",
                                      "userinfo_endpoint": "/oauth2/userinfo", "end_session_endpoint": "/oauth2/logout"] {
                    #expect(document[key] as? String == "http://portcullis.test" + suffix)
                }
                #expect(document["code_challenge_methods_supported"] as? [String] == ["S256"])
                #expect(document["response_types_supported"] as? [String] == ["code"])
                #expect(document["grant_types_supported"] as? [String] == ["authorization_code", "refresh_token", "client_credentials"])
                #expect(document["token_endpoint_auth_methods_supported"] as? [String] == ["client_secret_basic", "client_secret_post", "none"])
                #expect((document["id_token_signing_alg_values_supported"] as? [String])?.contains("RS256") == true)
                #expect(document["authorization_response_iss_parameter_supported"] as? Bool == true)
                #expect((document["scopes_supported"] as? [String]).map(Set.init) == ["openid", "profile", "email", "offline_access"])
            }
        }
    }

    @Test func codeFlowWithPKCEIssuesVerifiableTokensAndAnIDToken() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["editor"])
        let secret = try #require(try await harness.addClient())
        try await harness.test { client in
            let browser = Browser(client)
            let pkce = PKCE()
            let login = try await browser.signIn(standardRequest(pkce: pkce))
            #expect(login.text.contains("Example App"))
            #expect(login.headers[.init("Content-Security-Policy")!]?.contains("frame-ancestors 'none'") == true)
            let session = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("portcullis_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Lax") && !session.contains("Secure"))
            let redirect = try await browser.consent(login, allow: true)
            #expect(redirect.status == .seeOther)
            #expect(redirect.location?.hasPrefix(redirectURI + "?") == true)
            let parameters = redirect.redirectParameters
            #expect(parameters["state"] == "st-123")
            #expect(parameters["iss"] == "http://portcullis.test")
            let code = try #require(parameters["code"])

            let response = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier], secret: secret)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.cacheControl] == "no-store")
            let tokens = try response.json()
            #expect(tokens["token_type"] as? String == "Bearer")
            #expect(tokens["scope"] as? String == "openid profile email offline_access")
            let access = try #require(tokens["access_token"] as? String)
            let idToken = try #require(tokens["id_token"] as? String)
            #expect(tokens["refresh_token"] is String)

            let accessHeader = try decodePart(access, index: 0)
            #expect(accessHeader["typ"] as? String == "at+jwt")
            let claims = try decodePart(access, index: 1)
            #expect(claims["client_id"] as? String == "app")
            #expect(claims["roles"] as? [String] == ["editor", "viewer"])
            #expect(try await client.isActive(access))

            // The ID token: RS256 by default, verifiable with the JWKS key of its kid.
            let header = try decodePart(idToken, index: 0)
            #expect(header["alg"] as? String == "RS256" && header["typ"] as? String == "JWT")
            let ring = try harness.keys.load()
            let payload = try JWS.verify(idToken) { $0.kid.flatMap { ring.key(kid: $0) } }
            let id = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
            #expect(id["aud"] as? String == "app" && id["iss"] as? String == "http://portcullis.test")
            #expect(id["nonce"] as? String == "n-456")
            #expect(id["amr"] as? [String] == ["pwd"])
            #expect(id["auth_time"] is Int)
            #expect(id["sub"] as? String == claims["sub"] as? String)
            #expect(id["preferred_username"] as? String == "alice" && id["email"] as? String == "alice@example.com")
            #expect(id["at_hash"] as? String == Base64URL.encode(Digest.sha256(access).prefix(16)))

            let userinfo = try await client.get("/oauth2/userinfo", bearer: access).json()
            #expect(userinfo["sub"] as? String == claims["sub"] as? String)
            #expect(userinfo["preferred_username"] as? String == "alice")
            #expect(userinfo["email"] as? String == "alice@example.com")
        }
    }

    @Test func secondAuthorizationRemembersConsentAndReusesTheSession() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient()
        try await harness.test { client in
            let browser = Browser(client)
            _ = try await browser.authorize(standardRequest(scope: "openid profile"))
            let again = try await browser.get(authorizeURI(standardRequest(scope: "openid profile", state: "second")))
            #expect(again.status == .seeOther)
            #expect(again.redirectParameters["code"] != nil && again.redirectParameters["state"] == "second")
            // A wider scope asks again; prompt=consent always asks.
            #expect(try await browser.get(authorizeURI(standardRequest(scope: "openid email"))).text.contains("id=\"consent\""))
            #expect(try await browser.get(authorizeURI(standardRequest(scope: "openid profile", extra: ["prompt": "consent"]))).text.contains("id=\"consent\""))
            // prompt=login shows the login page despite the session.
            #expect(try await browser.get(authorizeURI(standardRequest(scope: "openid profile", extra: ["prompt": "login"]))).text.contains("id=\"login\""))
        }
    }

    @Test func maxAgeAsksForANewLoginWhenTheLastOneIsOlder() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let browser = Browser(client)
            _ = try await browser.authorize(standardRequest())
            harness.clock.advance(120)
            #expect(try await browser.get(authorizeURI(standardRequest(extra: ["max_age": "300"]))).status == .seeOther)
            #expect(try await browser.get(authorizeURI(standardRequest(extra: ["max_age": "60"]))).text.contains("id=\"login\""))
            let none = try await browser.get(authorizeURI(standardRequest(extra: ["max_age": "60", "prompt": "none"])))
            #expect(none.redirectParameters["error"] == "login_required")
        }
    }

    @Test func aClientAskingForPhishingResistanceGetsThePasskeyPageNotThePasswordSession() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let browser = Browser(client)
            _ = try await browser.authorize(standardRequest())  // a password session
            let page = try await browser.get(authorizeURI(standardRequest(extra: ["acr_values": "phr"])))
            #expect(page.status != .seeOther, "a password session does not satisfy acr_values=phr")
            #expect(page.text.contains("id=\"passkey\"") && !page.text.contains("id=\"login\""), "only the passkey is offered")
            let none = try await browser.get(authorizeURI(standardRequest(extra: ["acr_values": "phr", "prompt": "none"])))
            #expect(none.redirectParameters["error"] == "login_required")
            // Without acr_values the same session goes straight through.
            #expect(try await browser.get(authorizeURI(standardRequest())).status == .seeOther)
        }
    }

    @Test func firstPartyClientsSkipConsent() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let afterLogin = try await Browser(client).signIn(standardRequest())
            #expect(afterLogin.status == .seeOther)
            #expect(afterLogin.redirectParameters["code"] != nil)
        }
    }

    @Test func consentRejectionRedirectsWithAccessDenied() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient()
        try await harness.test { client in
            let browser = Browser(client)
            let denied = try await browser.consent(try await browser.signIn(standardRequest()), allow: false)
            #expect(denied.status == .seeOther)
            #expect(denied.redirectParameters["error"] == "access_denied")
            #expect(denied.redirectParameters["state"] == "st-123")
            #expect(denied.redirectParameters["iss"] == "http://portcullis.test")
            #expect(denied.redirectParameters["code"] == nil)
        }
    }

    @Test func promptNoneWithoutASessionIsLoginRequiredAndWithoutConsentIsConsentRequired() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient()
        try await harness.test { client in
            let browser = Browser(client)
            let none = try await browser.get(authorizeURI(standardRequest(extra: ["prompt": "none"])))
            #expect(none.status == .seeOther)
            #expect(none.redirectParameters["error"] == "login_required" && none.redirectParameters["state"] == "st-123")
            _ = try await browser.signIn(standardRequest())  // session, but no consent given
            let noConsent = try await browser.get(authorizeURI(standardRequest(extra: ["prompt": "none"])))
            #expect(noConsent.redirectParameters["error"] == "consent_required")
        }
    }

    @Test func wrongPasswordShowsTheLoginPageAgainWithoutASession() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient()
        try await harness.test { client in
            let browser = Browser(client)
            let failed = try await browser.signIn(standardRequest(), password: "wrong password")
            #expect(failed.status == .unauthorized)
            #expect(failed.text.contains("role=\"alert\"") && failed.text.contains("Wrong username or password."))
            #expect(browser.cookies["portcullis_session"] == nil)
            let unknown = try await browser.signIn(standardRequest(), username: "nobody", password: "wrong password")
            #expect(unknown.text.contains("Wrong username or password."))
        }
    }
}

@Suite struct OAuthRedirectValidationTests {
    @Test(arguments: [
        "https://app.example/other",                 // different path
        "https://app.example/callback?next=evil",    // extra query
        "https://app.example/callback#frag",         // fragment
        "http://app.example/callback",               // different scheme
        "https://evil@app.example/callback",         // userinfo
        "https://app.example.evil.test/callback",    // different host
        "https://app.example/callback/",             // trailing slash
        "https://APP.example/callback",              // case
    ])
    func unregisteredRedirectURIsGetAnErrorPageNeverARedirect(uri: String) async throws {
        let harness = try await Harness()
        try await harness.addClient()
        try await harness.test { client in
            let response = try await client.get(authorizeURI(standardRequest().merging(["redirect_uri": uri]) { $1 }))
            #expect(response.status == .badRequest)
            #expect(response.location == nil)
            #expect(response.text.contains("redirect_uri is not registered"))
        }
    }

    @Test func unknownClientOrMissingRedirectURIGetsAnErrorPage() async throws {
        let harness = try await Harness()
        try await harness.addClient()
        try await harness.test { client in
            for parameters in [standardRequest(client: "nope"), standardRequest().filter { $0.key != "redirect_uri" }, standardRequest().filter { $0.key != "client_id" }] {
                let response = try await client.get(authorizeURI(parameters))
                #expect(response.status == .badRequest && response.location == nil)
            }
            let repeated = try await client.get(authorizeURI(standardRequest()) + "&redirect_uri=" + AuthorizationResponse.formEncode("https://evil.test/cb"))
            #expect(repeated.status == .badRequest && repeated.location == nil)
        }
    }

    @Test func loopbackRedirectURIsMayVaryThePortOnly() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient("native", isPublic: true, redirectURIs: ["http://127.0.0.1/callback"])
        try await harness.test { client in
            for (uri, status) in [("http://127.0.0.1:53123/callback", HTTPResponse.Status.ok), ("http://127.0.0.1/callback", .ok),
                                  ("http://127.0.0.1:53123/other", .badRequest), ("http://localhost:53123/callback", .badRequest)] {
                let parameters = standardRequest(client: "native").merging(["redirect_uri": uri]) { $1 }
                let response = try await client.get(authorizeURI(parameters))
                #expect(response.status == status, "\(uri)")
            }
        }
    }

    @Test func laterErrorsRedirectWithErrorStateAndIss() async throws {
        let harness = try await Harness()
        try await harness.addClient()
        try await harness.addClient("spa", isPublic: true)
        try await harness.test { client in
            let cases: [([String: String], String)] = [
                (standardRequest(extra: ["response_type": "token"]), "unsupported_response_type"),
                (standardRequest(scope: "openid admin"), "invalid_scope"),
                (standardRequest(extra: ["code_challenge_method": "plain"]), "invalid_request"),
                (standardRequest(extra: ["code_challenge": "short"]), "invalid_request"),
                (standardRequest(client: "spa", pkce: nil), "invalid_request"),
                (standardRequest(extra: ["prompt": "none login"]), "invalid_request"),
                (standardRequest(extra: ["max_age": "-1"]), "invalid_request"),
                (standardRequest(extra: ["request": "eyJ..."]), "request_not_supported"),
            ]
            for (parameters, error) in cases {
                let response = try await client.get(authorizeURI(parameters))
                #expect(response.status == .seeOther, "\(parameters)")
                #expect(response.location?.hasPrefix(redirectURI + "?") == true)
                #expect(response.redirectParameters["error"] == error, "\(parameters)")
                #expect(response.redirectParameters["state"] == "st-123")
                #expect(response.redirectParameters["iss"] == "http://portcullis.test")
            }
        }
    }

    @Test func formsWithoutAValidCSRFTokenAreRefusedAndChangeNothing() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient()
        try await harness.test { client in
            let browser = Browser(client)
            let page = try await browser.get(authorizeURI(standardRequest()))
            var form = page.hiddenFields
            form["username"] = "alice"
            form["password"] = "correct horse"
            var forged = form
            forged["csrf"] = nil
            #expect(try await browser.post("/oauth2/login", forged).status == .forbidden)
            forged["csrf"] = "AAAA"
            #expect(try await browser.post("/oauth2/login", forged).status == .forbidden)
            // Another browser's token does not fit this browser's cookie.
            let other = Browser(client)
            let otherPage = try await other.get(authorizeURI(standardRequest()))
            forged["csrf"] = otherPage.hiddenFields["csrf"]
            #expect(try await browser.post("/oauth2/login", forged).status == .forbidden)
            #expect(browser.cookies["portcullis_session"] == nil)

            let consentPage = try await browser.post("/oauth2/login", form)
            var consent = consentPage.hiddenFields
            consent["decision"] = "allow"
            consent["csrf"] = nil
            let refused = try await browser.post("/oauth2/consent", consent)
            #expect(refused.status == .forbidden && refused.location == nil)
        }
    }

    @Test func userSuppliedTextIsEscapedInPages() async throws {
        let harness = try await Harness()
        try await harness.addClient(name: "<script>alert(1)</script>")
        try await harness.test { client in
            let page = try await client.get(authorizeURI(standardRequest(state: "\"><img src=x onerror=alert(1)>")))
            #expect(page.status == .ok)
            #expect(!page.text.contains("<script>alert(1)"))
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!page.text.contains("\"><img"))
            #expect(page.hiddenFields["request"]?.contains("onerror") == true)
        }
    }
}

@Suite struct OAuthTokenEndpointTests {
    /// Runs the browser flow and returns (code, verifier).
    func code(_ client: any TestClientProtocol, request: [String: String]? = nil, pkce: PKCE = PKCE()) async throws -> (String, PKCE) {
        (try await Browser(client).authorize(request ?? standardRequest(pkce: pkce)), pkce)
    }

    @Test func replayedCodeFailsAndRevokesWhatItIssued() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let (code, pkce) = try await code(client)
            let form = ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier]
            let first = try await client.token(form, secret: secret).json()
            let access = try #require(first["access_token"] as? String)
            let refresh = try #require(first["refresh_token"] as? String)
            #expect(try await client.isActive(access))
            let replay = try await client.token(form, secret: secret)
            #expect(replay.status == .badRequest && replay.errorCode == "invalid_grant")
            #expect(try await client.isActive(access) == false, "the replay must revoke the access token")
            let refreshed = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], secret: secret)
            #expect(refreshed.errorCode == "invalid_grant", "the replay must revoke the refresh token's family")
        }
    }

    @Test func pkceMismatchWrongClientAndRedirectMismatchAreInvalidGrant() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        let otherSecret = try await harness.addClient("other", firstParty: true)
        try await harness.test { client in
            let (code1, _) = try await code(client)
            let wrongVerifier = try await client.token(["grant_type": "authorization_code", "code": code1, "redirect_uri": redirectURI,
                                                        "code_verifier": PKCE().verifier], secret: secret)
            #expect(wrongVerifier.errorCode == "invalid_grant")
            let (code2, pkce2) = try await code(client)
            let noVerifier = try await client.token(["grant_type": "authorization_code", "code": code2, "redirect_uri": redirectURI], secret: secret)
            #expect(noVerifier.errorCode == "invalid_grant")
            let (code3, pkce3) = try await code(client)
            let otherClient = try await client.token(["grant_type": "authorization_code", "code": code3, "redirect_uri": redirectURI,
                                                      "code_verifier": pkce3.verifier], client: "other", secret: otherSecret)
            #expect(otherClient.errorCode == "invalid_grant")
            let (code4, pkce4) = try await code(client)
            let otherRedirect = try await client.token(["grant_type": "authorization_code", "code": code4, "redirect_uri": redirectURI + "x",
                                                        "code_verifier": pkce4.verifier], secret: secret)
            #expect(otherRedirect.errorCode == "invalid_grant")
            // A failed redemption burns nothing (issue 13): the right request afterwards succeeds.
            let retry = try await client.token(["grant_type": "authorization_code", "code": code2, "redirect_uri": redirectURI,
                                                "code_verifier": pkce2.verifier], secret: secret)
            #expect(retry.status == .ok)
        }
    }

    @Test func expiredCodesAreInvalidGrant() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let (code, pkce) = try await code(client)
            harness.clock.advance(61)
            let response = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI,
                                                   "code_verifier": pkce.verifier], secret: secret)
            #expect(response.errorCode == "invalid_grant")
        }
    }

    @Test func clientAuthenticationFailuresAre401InvalidClient() async throws {
        let harness = try await Harness()
        try await harness.addClient()
        try await harness.test { client in
            let form = ["grant_type": "client_credentials"]
            for response in [
                try await client.token(form, secret: "wrong"),
                try await client.token(form, client: "nope", secret: "x"),
                try await client.token(form, secret: nil),          // confidential client without its secret
                try await client.token(form, client: nil, secret: nil),
            ] {
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "invalid_client")
                #expect(response.headers[.cacheControl] == "no-store")
            }
            #expect(try await client.token(form, secret: "wrong").headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
        }
    }

    @Test func malformedTokenRequestsGetRFC6749Errors() async throws {
        let harness = try await Harness()
        let secret = try #require(try await harness.addClient())
        let publicOne = try await harness.addClient("spa", isPublic: true)
        #expect(publicOne == nil)
        try await harness.test { client in
            #expect(try await client.token([:], secret: secret).errorCode == "invalid_request")
            #expect(try await client.token(["grant_type": "password"], secret: secret).errorCode == "unsupported_grant_type")
            #expect(try await client.token(["grant_type": "authorization_code"], secret: secret).errorCode == "invalid_request")
            #expect(try await client.token(["grant_type": "authorization_code", "code": "nope", "redirect_uri": redirectURI], secret: secret).errorCode == "invalid_grant")
            #expect(try await client.token(["grant_type": "client_credentials"], client: "spa", secret: nil).errorCode == "unauthorized_client")
            let json = try await client.post("/oauth2/token", json: ["grant_type": "client_credentials"])
            #expect(json.status == .badRequest && json.errorCode == "invalid_request")
            let repeated = try await client.execute(uri: "/oauth2/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                    body: ByteBuffer(string: "grant_type=client_credentials&grant_type=password"))
            #expect(repeated.errorCode == "invalid_request")
        }
    }

    @Test func clientCredentialsGiveATokenWhoseSubjectIsTheClient() async throws {
        let harness = try await Harness()
        let secret = try #require(try await harness.addClient("svc-billing"))
        try await harness.test { client in
            let response = try await client.token(["grant_type": "client_credentials", "scope": "documents"], client: "svc-billing", secret: secret)
            #expect(response.status == .ok, "\(response.text)")
            let tokens = try response.json()
            #expect(tokens["refresh_token"] == nil && tokens["id_token"] == nil)
            let access = try #require(tokens["access_token"] as? String)
            let claims = try decodePart(access, index: 1)
            #expect(claims["sub"] as? String == "svc-billing" && claims["client_id"] as? String == "svc-billing")
            #expect(claims["roles"] as? [String] == ["authz-checker", "viewer"], "roles come from the policy's bindings of the client id")
            #expect(try await client.isActive(access))
            let decision = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/x"]).json()
            #expect(decision["allowed"] as? Bool == true && decision["subject"] as? String == "svc-billing")
            let openid = try await client.token(["grant_type": "client_credentials", "scope": "openid"], client: "svc-billing", secret: secret)
            #expect(openid.errorCode == "invalid_scope")
            #expect(try await client.get("/oauth2/userinfo", bearer: access).status == .unauthorized)
        }
    }

    @Test func refreshRotatesDetectsReuseAndStaysWithItsClient() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        let otherSecret = try await harness.addClient("other", firstParty: true)
        try await harness.test { client in
            let (code, pkce) = try await code(client)
            let first = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier], secret: secret).json()
            let refresh = try #require(first["refresh_token"] as? String)
            let stolen = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], client: "other", secret: otherSecret)
            #expect(stolen.errorCode == "invalid_grant")
            let narrowed = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh, "scope": "openid"], secret: secret)
            #expect(narrowed.status == .ok, "another client's attempt must not have used the token up")
            let second = try narrowed.json()
            #expect(second["scope"] as? String == "openid")
            let widened = try await client.token(["grant_type": "refresh_token", "refresh_token": try #require(second["refresh_token"] as? String), "scope": "openid documents"], secret: secret)
            #expect(widened.errorCode == "invalid_scope")
            let reuse = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], secret: secret)
            #expect(reuse.errorCode == "invalid_grant")
            #expect(try await client.isActive(try #require(second["access_token"] as? String)) == false, "reuse revokes the family")
        }
    }

    @Test func withoutOfflineAccessNoRefreshTokenIsIssued() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let pkce = PKCE()
            let (code, _) = try await code(client, request: standardRequest(scope: "openid", pkce: pkce), pkce: pkce)
            let tokens = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier], secret: secret).json()
            #expect(tokens["access_token"] is String && tokens["id_token"] is String)
            #expect(tokens["refresh_token"] == nil)
        }
    }

    @Test func revokeAndIntrospectFollowRFC7009AndRFC7662() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try #require(try await harness.addClient(firstParty: true))
        let otherSecret = try #require(try await harness.addClient("other", firstParty: true))
        try await harness.test { client in
            let (code, pkce) = try await code(client)
            let tokens = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier], secret: secret).json()
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)

            let live = try await client.form("/oauth2/introspect", ["token": access], basic: ("app", secret)).json()
            #expect(live["active"] as? Bool == true && live["client_id"] as? String == "app" && live["username"] as? String == "alice")
            let refreshInfo = try await client.form("/oauth2/introspect", ["token": refresh], basic: ("app", secret)).json()
            #expect(refreshInfo["active"] as? Bool == true && refreshInfo["token_type"] as? String == "refresh_token")
            #expect(try await client.form("/oauth2/introspect", ["token": refresh], basic: ("other", otherSecret)).json()["active"] as? Bool == false)
            #expect(try await client.form("/oauth2/introspect", ["token": "garbage"], basic: ("app", secret)).json().count == 1)
            #expect(try await client.form("/oauth2/introspect", ["token": access]).status == .unauthorized)
            #expect(try await client.form("/oauth2/introspect", [:], basic: ("app", secret)).errorCode == "invalid_request")

            // Another client cannot revoke our tokens; unknown tokens are not an error.
            #expect(try await client.form("/oauth2/revoke", ["token": access], basic: ("other", otherSecret)).status == .ok)
            #expect(try await client.isActive(access))
            #expect(try await client.form("/oauth2/revoke", ["token": "garbage"], basic: ("app", secret)).status == .ok)
            #expect(try await client.form("/oauth2/revoke", ["token": access], basic: ("app", "wrong")).status == .unauthorized)

            #expect(try await client.form("/oauth2/revoke", ["token": access, "token_type_hint": "access_token"], basic: ("app", secret)).status == .ok)
            #expect(try await client.isActive(access) == false)
            #expect(try await client.form("/oauth2/introspect", ["token": access], basic: ("app", secret)).json()["active"] as? Bool == false)
            #expect(try await client.form("/oauth2/revoke", ["token": refresh], basic: ("app", secret)).status == .ok)
            #expect(try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], secret: secret).errorCode == "invalid_grant")
        }
    }

    @Test func userinfoNeedsALiveTokenWithOpenID() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            #expect(try await client.get("/oauth2/userinfo").status == .unauthorized)
            #expect(try await client.get("/oauth2/userinfo", bearer: "garbage").headers[.wwwAuthenticate]?.contains("invalid_token") == true)
            // A REST-login token carries openid profile.
            let access = try #require(try await client.login()["access_token"] as? String)
            let info = try await client.form("/oauth2/userinfo", [:], bearer: access).json()
            #expect(info["preferred_username"] as? String == "alice" && info["email"] == nil)
        }
    }
}

@Suite struct OAuthSessionTests {
    @Test func mfaUsersSeeTheCodePageAndTheIDTokenSaysOTP() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let rest = try #require(try await client.login()["access_token"] as? String)
            let (authenticator, _) = try await client.enrolTOTP(bearer: rest, clock: harness.clock)
            harness.clock.advance(30)
            let browser = Browser(client)
            let pkce = PKCE()
            let mfaPage = try await browser.signIn(standardRequest(pkce: pkce))
            #expect(mfaPage.text.contains("id=\"mfa\""))
            #expect(browser.cookies["portcullis_session"] == nil, "no session before the second factor")
            var form = mfaPage.hiddenFields
            form["code"] = "000000" == authenticator.code(at: harness.clock.now) ? "111111" : "000000"
            let wrong = try await browser.post("/oauth2/mfa", form)
            #expect(wrong.status == .unauthorized && wrong.text.contains("role=\"alert\""))
            form["code"] = authenticator.code(at: harness.clock.now)
            let redirect = try await browser.post("/oauth2/mfa", form)
            #expect(redirect.status == .seeOther)
            let code = try #require(redirect.redirectParameters["code"])
            let tokens = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier], secret: secret).json()
            let id = try decodePart(try #require(tokens["id_token"] as? String), index: 1)
            #expect(id["amr"] as? [String] == ["pwd", "otp"])
            #expect(id["acr"] as? String == "urn:portcullis:acr:mfa")
        }
    }

    @Test func loginRotatesTheSessionCookieAndLogoutEndsIt() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient(postLogout: ["https://app.example/bye"], firstParty: true)
        try await harness.test { client in
            let browser = Browser(client)
            _ = try await browser.authorize(standardRequest())
            let firstSession = try #require(browser.cookies["portcullis_session"])
            _ = try await browser.signIn(standardRequest(extra: ["prompt": "login"]))
            let secondSession = try #require(browser.cookies["portcullis_session"])
            #expect(firstSession != secondSession)

            let unregistered = try await browser.get("/oauth2/logout?client_id=app&post_logout_redirect_uri=" + AuthorizationResponse.formEncode("https://evil.test/"))
            #expect(unregistered.status == .badRequest)
            let confirm = try await browser.get("/oauth2/logout?client_id=app&state=s1&post_logout_redirect_uri=" + AuthorizationResponse.formEncode("https://app.example/bye"))
            #expect(confirm.text.contains("id=\"logout\""))
            var form = confirm.hiddenFields
            form["csrf"] = nil
            #expect(try await browser.post("/oauth2/logout", form).status == .forbidden)
            let loggedOut = try await browser.post("/oauth2/logout", confirm.hiddenFields)
            #expect(loggedOut.status == .seeOther)
            #expect(loggedOut.location == "https://app.example/bye?state=s1")
            #expect(browser.cookies["portcullis_session"] == nil)
            let none = try await browser.get(authorizeURI(standardRequest(extra: ["prompt": "none"])))
            #expect(none.redirectParameters["error"] == "login_required")
        }
    }

    @Test func totpCanBeEnrolledInTheBrowser() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let browser = Browser(client)
            let login = try await browser.get("/account/totp")
            #expect(login.text.contains("id=\"login\""))
            var form = login.hiddenFields
            form["username"] = "alice"
            form["password"] = "correct horse"
            let redirect = try await browser.post("/oauth2/login", form)
            #expect(redirect.location == "/account/totp")
            let page = try await browser.get("/account/totp")
            #expect(page.text.contains("<svg"))
            let secret = try #require(page.text.firstMatch(of: #/Key: <code>([A-Z2-7]+)</code>/#)?.1)
            let authenticator = try Authenticator(base32: String(secret))
            var confirm = page.hiddenFields
            confirm["code"] = authenticator.code(at: harness.clock.now)
            let done = try await browser.post("/account/totp", confirm)
            #expect(done.text.contains("recovery codes"))
            #expect(try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"]).json()["mfa_required"] as? Bool == true)
        }
    }
}
