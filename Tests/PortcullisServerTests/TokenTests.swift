import Foundation
import HummingbirdTesting
import PortcullisCore
import PortcullisCrypto
import PortcullisServer
import Testing

@Suite struct RefreshAndLogoutTests {
    @Test func refreshRotatesAndReuseRevokesTheWholeFamily() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let first = try await client.login()
            let oldRefresh = try #require(first["refresh_token"] as? String)
            let rotated = try await client.post("/v1/token/refresh", json: ["refresh_token": oldRefresh])
            #expect(rotated.status == .ok)
            let second = try rotated.json()
            let newRefresh = try #require(second["refresh_token"] as? String)
            let newAccess = try #require(second["access_token"] as? String)
            #expect(newRefresh != oldRefresh)
            #expect(try decodePart(newAccess, index: 1)["sid"] as? String == (try decodePart(first["access_token"] as! String, index: 1)["sid"] as? String))
            #expect(try await client.isActive(newAccess))

            let replay = try await client.post("/v1/token/refresh", json: ["refresh_token": oldRefresh])
            #expect(replay.status == .unauthorized)
            #expect(replay.errorCode == "invalid_grant")

            // The whole family is dead: the newest refresh token and every access token of it.
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": newRefresh]).status == .unauthorized)
            #expect(try await client.isActive(newAccess) == false)
            #expect(try await client.isActive(first["access_token"] as! String) == false)
        }
        #expect(try await harness.store.recentAudit(limit: 20).contains { $0.action == "token.reuse" })
    }

    @Test func aReuseIsAuditedUnderTheUserSoErasureFindsItAfterTheJanitorRemovedTheFamily() async throws {
        let harness = try await Harness()
        let alice = try await harness.addUser()
        try await harness.test { client in
            let refresh = try #require(try await client.login()["refresh_token"] as? String)
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": refresh]).status == .ok)
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": refresh]).status == .unauthorized)
        }
        let reuse = try #require(try await harness.store.recentAudit(limit: 20).first { $0.action == "token.reuse" })
        #expect(reuse.subject == alice.id)
        #expect(reuse.detail?.hasPrefix("family ") == true)

        harness.clock.advance(2 * 3600)
        let clock = harness.clock
        let removed = try await Janitor(store: harness.store, configuration: harness.configuration, metrics: harness.services.metrics,
                                        clock: { clock.now }).sweep().removed
        #expect(removed.families == 1, "the revoked family is gone")
        _ = try await harness.admin.eraseUser("alice")
        let after = try #require(try await harness.store.recentAudit(limit: 50).first { $0.action == "token.reuse" })
        #expect(after.subject != alice.id && after.detail == nil && after.remoteAddress == nil, "the reuse row is pseudonymised")
    }

    @Test func concurrentRefreshesWithOneTokenLetExactlyOneWin() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let refresh = try #require(try await client.login()["refresh_token"] as? String)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await client.post("/v1/token/refresh", json: ["refresh_token": refresh]).status.code }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 401 }.count == 5)
        }
    }

    @Test func graceWindowLetsALostResponseBeRetried() async throws {
        let harness = try await Harness { $0.refreshGraceWindow = 10 }
        try await harness.addUser()
        try await harness.test { client in
            let refresh = try #require(try await client.login()["refresh_token"] as? String)
            let lost = try await client.post("/v1/token/refresh", json: ["refresh_token": refresh])
            #expect(lost.status == .ok)
            harness.clock.advance(3)
            let retry = try await client.post("/v1/token/refresh", json: ["refresh_token": refresh])
            #expect(retry.status == .ok)
            let access = try #require(try retry.json()["access_token"] as? String)
            #expect(try await client.isActive(access))
            harness.clock.advance(10)
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": refresh]).status == .unauthorized)
            #expect(try await client.isActive(access) == false, "reuse after the window revokes the family")
        }
    }

    @Test func garbageAndExpiredRefreshTokensAre401AndChangeNothing() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let pair = try await client.login()
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": "garbage"]).status == .unauthorized)
            #expect(try await client.post("/v1/token/refresh", json: [:]).status == .badRequest)
            #expect(try await client.isActive(pair["access_token"] as! String))
            harness.clock.advance(31 * 24 * 3600)
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": pair["refresh_token"]!]).status == .unauthorized)
        }
    }

    @Test func logoutRevokesTheFamilyAndItsAccessTokens() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let pair = try await client.login()
            let other = try await client.login()
            let logout = try await client.post("/v1/logout", json: ["refresh_token": pair["refresh_token"]!])
            #expect(logout.status == .noContent)
            #expect(try await client.isActive(pair["access_token"] as! String) == false)
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": pair["refresh_token"]!]).status == .unauthorized)
            #expect(try await client.isActive(other["access_token"] as! String), "other sessions live on")
            #expect(try await client.post("/v1/logout", json: ["refresh_token": "unknown"]).status == .noContent)
        }
    }
}

@Suite struct VerifyTests {
    @Test func tamperedTokensAreInactive() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let parts = access.split(separator: ".").map(String.init)
            var claims = try decodePart(access, index: 1)
            claims["roles"] = ["admin"]
            let forgedPayload = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims)))
            var signature = Base64URL.decode(parts[2])!
            signature[10] ^= 1
            for token in ["\(parts[0]).\(forgedPayload).\(parts[2])", "\(parts[0]).\(parts[1]).\(Base64URL.encode(signature))",
                          "\(parts[0]).\(parts[1])", "garbage", "", "a.b.c", String(repeating: "A", count: 20_000)] {
                #expect(try await client.isActive(token) == false, "\(token.prefix(40)) was accepted")
            }
        }
    }

    @Test func algNoneHS256WithThePublicKeyAndUnknownKidAreInactive() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let claims = try decodePart(access, index: 1)
            let kid = try #require(try harness.keys.signingKID())

            let none = try forgeToken(header: ["alg": "none", "typ": "at+jwt", "kid": kid], payload: claims, signature: [])
            #expect(try await client.isActive(none) == false)

            let publicPEM = try harness.keys.load().signingKey.publicKeyPEM()
            let header = ["alg": "HS256", "typ": "at+jwt", "kid": kid]
            let unsigned = try forgeToken(header: header, payload: claims, signature: [])
            let signingInput = Array(unsigned.dropLast().utf8)
            let mac = HMAC.authenticationCode(.sha256, key: Array(publicPEM.utf8), message: signingInput)
            #expect(try await client.isActive(String(unsigned.dropLast()) + "." + Base64URL.encode(mac)) == false)

            let parts = access.split(separator: ".").map(String.init)
            var unknownHeader = try decodePart(access, index: 0)
            unknownHeader["kid"] = "no-such-key"
            let reheaded = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: unknownHeader)))
            #expect(try await client.isActive("\(reheaded).\(parts[1]).\(parts[2])") == false)
        }
    }

    @Test func expiredTokensAreInactive() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            harness.clock.advance(900 + 61)
            #expect(try await client.isActive(access) == false)
        }
    }

    @Test func tokensOfDisabledAndDeletedUsersAreInactive() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addUser("bob")
        try await harness.test { client in
            let alice = try #require(try await client.login()["access_token"] as? String)
            let bob = try #require(try await client.login("bob")["access_token"] as? String)
            try await harness.admin.setDisabled("alice", disabled: true)
            try await harness.admin.deleteUser("bob")
            #expect(try await client.isActive(alice) == false)
            #expect(try await client.isActive(bob) == false)
            try await harness.admin.setDisabled("alice", disabled: false)
            #expect(try await client.isActive(alice) == false, "re-enabling does not revive ended sessions")
        }
    }

    @Test func revocationIsCheckedOnEveryVerifyEvenForATokenVerifiedBefore() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addUser("bob")
        try await harness.addUser("carol")
        try await harness.test { client in
            let alice = try await client.login()
            let bob = try #require(try await client.login("bob")["access_token"] as? String)
            let carol = try #require(try await client.login("carol")["access_token"] as? String)
            let aliceAccess = try #require(alice["access_token"] as? String)
            for token in [aliceAccess, bob, carol] {
                #expect(try await client.isActive(token))
                #expect(try await client.isActive(token), "a repeat, answered from the verified-token cache, is still active")
            }
            _ = try await client.post("/v1/logout", json: ["refresh_token": alice["refresh_token"]!])
            try await harness.admin.setDisabled("bob", disabled: true)
            harness.clock.advance(900 + 61)
            #expect(try await client.isActive(aliceAccess) == false, "session revoked")
            #expect(try await client.isActive(bob) == false, "user disabled")
            #expect(try await client.isActive(carol) == false, "expired")
        }
    }

    @Test func tokensSignedBeforeARotationKeepVerifyingUntilRetired() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let before = try #require(try await client.login()["access_token"] as? String)
            let oldKid = try #require(try harness.keys.signingKID())
            let rotated = try harness.keys.rotate(.edDSA)
            let after = try #require(try await client.login()["access_token"] as? String)
            #expect(try decodePart(after, index: 0)["kid"] as? String == rotated.kid)
            #expect(try decodePart(after, index: 0)["alg"] as? String == "EdDSA")
            #expect(try await client.isActive(before))
            #expect(try await client.isActive(after))

            let jwks = try await client.get("/.well-known/jwks.json").json()
            let kids = (jwks["keys"] as? [[String: Any]])?.compactMap { $0["kid"] as? String }
            let idTokenKid = try #require(try harness.keys.list().first { $0.alg == .rs256 }?.kid)
            #expect(kids == [oldKid, idTokenKid, rotated.kid])

            try harness.keys.retire(kid: oldKid)
            #expect(try await client.isActive(before) == false)
            #expect(try await client.isActive(after))
        }
    }
}

@Suite struct MeTests {
    @Test func meReturnsTheProfileOfTheTokenHolder() async throws {
        let harness = try await Harness()
        try await harness.addUser(roles: ["editor"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let me = try await client.get("/v1/me", bearer: access)
            #expect(me.status == .ok)
            let profile = try me.json()
            #expect(profile["username"] as? String == "alice")
            #expect(profile["email"] as? String == "alice@example.com")
            #expect(profile["roles"] as? [String] == ["editor", "viewer"], "effective roles, inheritance included")
            #expect((profile["mfa"] as? [String: Any])?["totp"] as? Bool == false)
            #expect(profile["password_hash"] == nil)
        }
    }

    @Test func meWithoutOrWithABadTokenIs401() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let none = try await client.get("/v1/me")
            #expect(none.status == .unauthorized)
            #expect(none.errorCode == "invalid_token")
            #expect(none.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await client.get("/v1/me", bearer: "x.y.z").status == .unauthorized)
        }
    }

    @Test func passwordChangeChecksTheCurrentPasswordAndEndsOtherSessions() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let current = try #require(try await client.login()["access_token"] as? String)
            let other = try await client.login()

            let wrong = try await client.post("/v1/me/password", json: ["current_password": "nope nope", "new_password": "a new secret"], bearer: current)
            #expect(wrong.status == .unauthorized)
            let short = try await client.post("/v1/me/password", json: ["current_password": "correct horse", "new_password": "short"], bearer: current)
            #expect(short.status == .badRequest)
            let anonymous = try await client.post("/v1/me/password", json: ["current_password": "correct horse", "new_password": "a new secret"])
            #expect(anonymous.status == .unauthorized)

            let changed = try await client.post("/v1/me/password", json: ["current_password": "correct horse", "new_password": "a new secret"], bearer: current)
            #expect(changed.status == .noContent)
            #expect(try await client.isActive(current), "the session that changed it lives on")
            #expect(try await client.isActive(other["access_token"] as! String) == false)
            #expect(try await client.post("/v1/token/refresh", json: ["refresh_token": other["refresh_token"]!]).status == .unauthorized)
            #expect(try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"]).status == .unauthorized)
            _ = try await client.login("alice", "a new secret")
        }
    }
}

@Suite struct HealthTests {
    @Test func healthReadinessAndJWKSAnswer() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            #expect(try await client.get("/healthz").json()["status"] as? String == "ok")
            let ready = try await client.get("/readyz").json()
            #expect(ready["status"] as? String == "ready")
            #expect(ready["signing_key"] as? String == (try harness.keys.signingKID()))
            let jwks = try await client.get("/.well-known/jwks.json")
            let keys = try #require(try jwks.json()["keys"] as? [[String: Any]])
            #expect(keys.compactMap { $0["kty"] as? String } == ["EC", "RSA"], "the signing key and the RS256 ID-token key")
            #expect(keys.allSatisfy { $0["d"] == nil && $0["p"] == nil })
        }
    }
}
