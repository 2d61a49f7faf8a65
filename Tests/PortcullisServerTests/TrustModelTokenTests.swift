import Foundation
import HummingbirdTesting
import NIOCore
import PortcullisCore
import PortcullisCrypto
import PortcullisServer
import Testing

/// Issue 13, items 1, 2 and 7: tokens bound to their client and audience; codes checked before they
/// are consumed; PKCE for confidential clients; client tokens die with their client; cookie prefix.
@Suite struct TrustModelTokenTests {
    static let api = "https://api.example"

    /// Runs the browser flow (with consent for third-party clients) and redeems the code.
    func tokens(_ client: any TestClientProtocol, clientID: String = "app", secret: String?, scope: String = "openid offline_access",
                extra: [String: String] = [:], tokenExtra: [String: String] = [:]) async throws -> [String: Any] {
        let pkce = PKCE()
        let code = try await Browser(client).authorize(standardRequest(client: clientID, scope: scope, pkce: pkce, extra: extra))
        let response = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI,
                                               "code_verifier": pkce.verifier].merging(tokenExtra) { $1 }, client: clientID, secret: secret)
        #expect(response.status == .ok, "token request failed: \(response.text)")
        return try response.json()
    }

    @Test func oauthRefreshTokenIsRefusedAtTheRESTRefreshAndConsumesNothing() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient()
        try await harness.test { client in
            let refresh = try #require(try await tokens(client, secret: secret)["refresh_token"] as? String)
            let rest = try await client.post("/v1/token/refresh", json: ["refresh_token": refresh])
            #expect(rest.status == .unauthorized && rest.errorCode == "invalid_grant", "\(rest.text)")
            #expect(try await client.post("/v1/logout", json: ["refresh_token": refresh]).status == .noContent)
            let own = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], secret: secret)
            #expect(own.status == .ok, "the REST attempt and logout must not have consumed or revoked the token: \(own.text)")
        }
    }

    @Test func restRefreshTokenIsRefusedAtTheTokenEndpointAndConsumesNothing() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let refresh = try #require(try await client.login()["refresh_token"] as? String)
            let oauth = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], secret: secret)
            #expect(oauth.status == .badRequest && oauth.errorCode == "invalid_grant")
            let rest = try await client.post("/v1/token/refresh", json: ["refresh_token": refresh])
            #expect(rest.status == .ok, "the client's attempt must not have consumed the token: \(rest.text)")
        }
    }

    @Test func anotherClientsRefreshTokenIsRefusedAndConsumesNothing() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient()
        let otherSecret = try await harness.addClient("other")
        try await harness.test { client in
            let refresh = try #require(try await tokens(client, secret: secret)["refresh_token"] as? String)
            let stolen = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], client: "other", secret: otherSecret)
            #expect(stolen.status == .badRequest && stolen.errorCode == "invalid_grant")
            let own = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], secret: secret)
            #expect(own.status == .ok, "\(own.text)")
        }
    }

    @Test func thirdPartyAccessTokenCarriesClientIDAudienceAndIsRefusedByTheAccountAPI() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["editor"])
        let secret = try await harness.addClient()
        try await harness.test { client in
            let access = try #require(try await tokens(client, secret: secret)["access_token"] as? String)
            let claims = try decodePart(access, index: 1)
            #expect(claims["aud"] as? String == "app", "third-party tokens are for the client, not the issuer")
            #expect(try await client.isActive(access), "it stays a valid token")
            #expect(try await client.get("/v1/me", bearer: access).errorCode == "invalid_token")
            #expect(try await client.post("/v1/me/mfa/totp", json: [:], bearer: access).status == .unauthorized)
            #expect(try await client.post("/v1/me/password", json: ["current_password": "correct horse", "new_password": "another horse"],
                                          bearer: access).status == .unauthorized)
            let verify = try await client.post("/v1/token/verify", json: ["token": access]).json()
            #expect(verify["client_id"] as? String == "app" && verify["scope"] as? String == "openid offline_access" && verify["aud"] as? String == "app")
            let decision = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/x"]).json()
            #expect(decision["client_id"] as? String == "app" && decision["aud"] as? String == "app")
        }
    }

    @Test func firstPartyClientTokenCarriesTheIssuerAudience() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let access = try #require(try await tokens(client, secret: secret)["access_token"] as? String)
            #expect(try decodePart(access, index: 1)["aud"] as? String == "http://portcullis.test")
            #expect(try await client.get("/v1/me", bearer: access).status == .ok)
            let rest = try #require(try await client.login()["access_token"] as? String)
            #expect(try decodePart(rest, index: 1)["aud"] as? String == "http://portcullis.test")
        }
    }

    @Test func resourceIndicatorsBecomeTheAudience() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(resources: [Self.api, "https://billing.example"])
        try await harness.test { client in
            let issued = try await tokens(client, secret: secret, extra: ["resource": Self.api])
            let access = try #require(issued["access_token"] as? String)
            #expect(try decodePart(access, index: 1)["aud"] as? String == Self.api)
            let verified = try await client.post("/v1/token/verify", json: ["token": access, "audience": Self.api]).json()
            #expect(verified["active"] as? Bool == true)
            // A refresh keeps the granted audience; it may not reach for another registered resource.
            let refresh = try #require(issued["refresh_token"] as? String)
            let wider = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh, "resource": "https://billing.example"], secret: secret)
            #expect(wider.errorCode == "invalid_target")
            let refreshed = try await client.token(["grant_type": "refresh_token", "refresh_token": refresh], secret: secret).json()
            #expect(try decodePart(try #require(refreshed["access_token"] as? String), index: 1)["aud"] as? String == Self.api)
            // Client credentials with two resources: both are the audience.
            let body = "grant_type=client_credentials&resource=\(AuthorizationResponse.formEncode(Self.api))&resource=\(AuthorizationResponse.formEncode("https://billing.example"))"
            let machine = try await client.execute(uri: "/oauth2/token", method: .post, headers: [
                .contentType: "application/x-www-form-urlencoded",
                .authorization: "Basic " + Data("app:\(try #require(secret))".utf8).base64EncodedString(),
            ], body: ByteBuffer(string: body))
            let machineToken = try #require(try machine.json()["access_token"] as? String)
            #expect(try decodePart(machineToken, index: 1)["aud"] as? [String] == [Self.api, "https://billing.example"])
        }
    }

    @Test func unregisteredResourceIsInvalidTarget() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(resources: [Self.api])
        try await harness.test { client in
            let page = try await Browser(client).get(authorizeURI(standardRequest(extra: ["resource": "https://evil.example"])))
            #expect(page.status == .seeOther && page.redirectParameters["error"] == "invalid_target")
            let tokenTime = try await client.token(["grant_type": "client_credentials", "resource": "https://evil.example"], secret: secret)
            #expect(tokenTime.status == .badRequest && tokenTime.errorCode == "invalid_target")
            // At the code redemption, a resource outside the authorization request's is refused and burns nothing.
            let pkce = PKCE()
            let code = try await Browser(client).authorize(standardRequest(pkce: pkce))
            let form = ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier]
            let bad = try await client.token(form.merging(["resource": "https://evil.example"]) { $1 }, secret: secret)
            #expect(bad.errorCode == "invalid_target")
            #expect(try await client.token(form, secret: secret).status == .ok)
        }
    }

    @Test func verifyAndAuthorizeWithAnAudienceRefuseTokensWithoutIt() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["viewer"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let verify = try await client.post("/v1/token/verify", json: ["token": access, "audience": Self.api]).json()
            #expect(verify["active"] as? Bool == false)
            #expect((verify["reason"] as? String)?.contains(Self.api) == true)
            #expect(verify["sub"] == nil, "an inactive answer says nothing more about the token")
            let own = try await client.post("/v1/token/verify", json: ["token": access, "audience": "http://portcullis.test"]).json()
            #expect(own["active"] as? Bool == true && own["scope"] as? String == "openid profile")
            let decision = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/x", "audience": Self.api]).json()
            #expect(decision["allowed"] as? Bool == false)
            #expect((decision["reason"] as? String)?.contains("audience") == true)
            let allowed = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/x"]).json()
            #expect(allowed["allowed"] as? Bool == true && allowed["aud"] as? String == "http://portcullis.test" && allowed["scope"] as? String == "openid profile")
            let garbage = try await client.post("/v1/token/verify", json: ["token": "x.y.z", "audience": Self.api]).json()
            #expect(garbage["active"] as? Bool == false && garbage["reason"] == nil)
        }
    }

    @Test func codeWithWrongRedirectOrVerifierIsNotBurned() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.addClient(firstParty: true)
        let otherSecret = try await harness.addClient("other", firstParty: true)
        try await harness.test { client in
            let pkce = PKCE()
            let code = try await Browser(client).authorize(standardRequest(pkce: pkce))
            let form = ["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI, "code_verifier": pkce.verifier]
            for (bad, clientID, clientSecret) in [
                (form.merging(["redirect_uri": redirectURI + "x"]) { $1 }, "app", secret),
                (form.merging(["code_verifier": PKCE().verifier]) { $1 }, "app", secret),
                (form.filter { $0.key != "code_verifier" }, "app", secret),
                (form, "other", otherSecret),
            ] {
                let response = try await client.token(bad, client: clientID, secret: clientSecret)
                #expect(response.status == .badRequest && response.errorCode == "invalid_grant")
            }
            let good = try await client.token(form, secret: secret)
            #expect(good.status == .ok, "a mismatched request must not burn the code: \(good.text)")
            #expect(try await client.token(form, secret: secret).errorCode == "invalid_grant", "and it still works only once")
        }
    }

    @Test func confidentialClientsNeedPKCEUnlessOptional() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient(firstParty: true)
        let legacySecret = try await harness.addClient("legacy", firstParty: true, pkceRequired: false)
        await #expect(throws: PortcullisError.self) { try await harness.addClient("spa", isPublic: true, pkceRequired: false) }
        try await harness.test { client in
            let refused = try await Browser(client).get(authorizeURI(standardRequest(pkce: nil)))
            #expect(refused.status == .seeOther && refused.redirectParameters["error"] == "invalid_request")
            let code = try await Browser(client).authorize(standardRequest(client: "legacy", pkce: nil))
            let response = try await client.token(["grant_type": "authorization_code", "code": code, "redirect_uri": redirectURI],
                                                  client: "legacy", secret: legacySecret)
            #expect(response.status == .ok, "\(response.text)")
        }
    }

    @Test func clientCredentialsTokensDieWithTheirClient() async throws {
        let harness = try await Harness()
        let secret = try await harness.addClient("svc-billing")
        try await harness.test { client in
            let response = try await client.token(["grant_type": "client_credentials"], client: "svc-billing", secret: secret)
            let access = try #require(try response.json()["access_token"] as? String)
            #expect(try await client.isActive(access))
            try await ClientAdministration(store: harness.store).delete(id: "svc-billing")
            #expect(try await client.isActive(access) == false)
            let decision = try await client.post("/v1/authorize", json: ["token": access, "action": "read", "resource": "documents/x"])
            #expect(decision.status == .unauthorized)
        }
    }

    @Test func cookiesUseTheHostPrefixOnHTTPSIssuers() async throws {
        let harness = try await Harness { $0.issuer = "https://id.example" }
        try await harness.addUser()
        try await harness.addClient(firstParty: true)
        try await harness.test { client in
            let browser = Browser(client)
            let page = try await browser.get(authorizeURI(standardRequest()))
            let csrf = try #require(page.headers[values: .setCookie].first)
            #expect(csrf.hasPrefix("__Host-portcullis_csrf=") && csrf.contains("; Secure") && csrf.contains("Path=/") && !csrf.contains("Domain"))
            var form = page.hiddenFields
            form["username"] = "alice"
            form["password"] = "correct horse"
            let loggedIn = try await browser.post("/oauth2/login", form)
            #expect(loggedIn.status == .seeOther, "\(loggedIn.text.prefix(200))")
            #expect(loggedIn.headers[values: .setCookie].contains { $0.hasPrefix("__Host-portcullis_session=") && $0.contains("; Secure") })
            #expect(browser.cookies["portcullis_session"] == nil)
        }
        let plain = try await Harness()
        try await plain.addClient(firstParty: true)
        try await plain.test { client in
            let page = try await Browser(client).get(authorizeURI(standardRequest()))
            #expect(page.headers[values: .setCookie].first?.hasPrefix("portcullis_csrf=") == true)
        }
    }
}
