import Foundation
import HummingbirdTesting
import PortcullisCore
import PortcullisCrypto
import PortcullisServer
import Testing

@Suite struct LoginTests {
    @Test func loginReturnsABearerPairWhoseAccessTokenVerifies() async throws {
        let harness = try await Harness()
        let user = try await harness.addUser(roles: ["viewer"])
        try await harness.test { client in
            let body = try await client.login()
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["expires_in"] as? Int == 900)
            let access = try #require(body["access_token"] as? String)
            #expect((body["refresh_token"] as? String)?.count ?? 0 >= 43)

            let header = try decodePart(access, index: 0)
            #expect(header["typ"] as? String == "at+jwt")
            #expect(header["alg"] as? String == "ES256")
            #expect(header["kid"] as? String == (try harness.keys.signingKID()))
            let claims = try decodePart(access, index: 1)
            for name in ["iss", "sub", "exp", "iat", "nbf", "jti", "username", "roles", "scope", "sid", "aud"] {
                #expect(claims[name] != nil, "claim \(name) missing")
            }
            #expect(claims["sub"] as? String == user.id)
            #expect(claims["roles"] as? [String] == ["viewer"])

            let verify = try await client.post("/v1/token/verify", json: ["token": access])
            let answer = try verify.json()
            #expect(answer["active"] as? Bool == true)
            #expect(answer["username"] as? String == "alice")
            #expect(answer["iss"] as? String == "http://portcullis.test")
        }
    }

    @Test func wrongPasswordUnknownUserAndDisabledUserGetTheSameAnswer() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addUser("carol")
        try await harness.admin.setDisabled("carol", disabled: true)
        try await harness.test { client in
            let wrong = try await client.post("/v1/login", json: ["username": "alice", "password": "wrong password"])
            let unknown = try await client.post("/v1/login", json: ["username": "mallory", "password": "wrong password"])
            let disabled = try await client.post("/v1/login", json: ["username": "carol", "password": "correct horse"])
            for response in [wrong, unknown, disabled] {
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == String(buffer: wrong.body))
            }
            #expect(wrong.errorCode == "invalid_credentials")
        }
        let actions = try await harness.store.recentAudit(limit: 10).map(\.action)
        #expect(actions.filter { $0 == "login.failure" }.count == 3)
    }

    @Test func usernameMatchesWithoutRegardToCase() async throws {
        let harness = try await Harness()
        try await harness.addUser("Alice")
        try await harness.test { client in
            _ = try await client.login("alice")
        }
    }

    @Test func malformedMissingAndOversizedBodiesGetJSONErrors() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let malformed = try await client.post("/v1/login", raw: "{\"username\": ")
            #expect(malformed.status == .badRequest)
            #expect(malformed.errorCode == "invalid_request")

            let missing = try await client.post("/v1/login", json: ["username": "alice"])
            #expect(missing.status == .badRequest)
            #expect(missing.errorCode == "invalid_request")

            let wrongType = try await client.post("/v1/login", json: ["username": 5, "password": true])
            #expect(wrongType.status == .badRequest)

            let empty = try await client.post("/v1/login", json: ["username": "", "password": ""])
            #expect(empty.status == .badRequest)

            let huge = try await client.post("/v1/login", json: ["username": "alice", "password": String(repeating: "x", count: 70_000)])
            #expect(huge.status == .contentTooLarge)
            #expect(huge.errorCode == "payload_too_large")
        }
    }

    @Test func unknownRoutesAre404AndWrongMethods405BothAsJSON() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            let missing = try await client.get("/v1/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            let wrongMethod = try await client.get("/v1/login")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.errorCode == "method_not_allowed")
            #expect(wrongMethod.headers[.contentType]?.hasPrefix("application/json") == true)
        }
    }

    @Test func tenFailuresLockTheAccountWithRetryAfterEvenForTheRightPassword() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            for _ in 0..<10 {
                let response = try await client.post("/v1/login", json: ["username": "alice", "password": "nope nope"])
                #expect(response.status == .unauthorized)
            }
            let locked = try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers[.retryAfter] == "60")
            #expect(locked.errorCode == "too_many_requests")

            // Unknown names lock the same way: no enumeration through the lockout.
            for _ in 0..<10 { _ = try await client.post("/v1/login", json: ["username": "ghost", "password": "nope nope"]) }
            #expect(try await client.post("/v1/login", json: ["username": "ghost", "password": "nope nope"]).status == .tooManyRequests)

            #expect(try await harness.admin.unlock("alice"))
            _ = try await client.login()
        }
    }

    @Test func lockoutExpiresAndGrowsOnTheNextFailure() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            for _ in 0..<10 { _ = try await client.post("/v1/login", json: ["username": "alice", "password": "nope nope"]) }
            harness.clock.advance(61)
            let again = try await client.post("/v1/login", json: ["username": "alice", "password": "nope nope"])
            #expect(again.status == .unauthorized)
            let locked = try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"])
            #expect(locked.headers[.retryAfter] == "120")
        }
    }

    /// Issue 13: a success gives back only its own attempt, so the owner logging in during a burst
    /// of guesses frees no slot for the burst; failures are forgotten after 15 quiet minutes.
    @Test func successGivesBackOnlyItsOwnAttemptAndFailuresAgeOut() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            for _ in 0..<9 { _ = try await client.post("/v1/login", json: ["username": "alice", "password": "nope nope"]) }
            _ = try await client.login()
            let tenth = try await client.post("/v1/login", json: ["username": "alice", "password": "nope nope"])
            #expect(tenth.status == .unauthorized)
            let locked = try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"])
            #expect(locked.status == .tooManyRequests, "the success before did not erase the nine failures")
            harness.clock.advance(61 + 900)
            for _ in 0..<9 { _ = try await client.post("/v1/login", json: ["username": "alice", "password": "nope nope"]) }
            _ = try await client.login()
        }
    }

    @Test func loginUpgradesAHashWeakerThanTheConfiguredCost() async throws {
        let weak = try await Harness()
        try await weak.addUser()
        let before = try #require(try await weak.store.user(username: "alice")?.passwordHash)
        #expect(before.contains("m=1024,t=1,p=1"))
        // Same database, stronger configuration.
        var strongerConfiguration = weak.configuration
        strongerConfiguration.argon2 = Argon2Parameters(memoryKiB: 2048, iterations: 2, parallelism: 1)
        let upgraded = try await Harness(configuration: strongerConfiguration).services
        _ = try await upgraded.auth.login(username: "alice", password: "correct horse", remoteAddress: "127.0.0.1")
        let after = try #require(try await weak.store.user(username: "alice")?.passwordHash)
        #expect(after.contains("m=2048,t=2,p=1"))
        #expect(Argon2id.verify(password: "correct horse", encoded: after))
    }

    @Test func responsesCarrySecurityHeaders() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let response = try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"])
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
        }
    }
}

@Suite struct EnumerationAndAddressTests {
    @Test func unknownUserCostsTheSameArgon2WorkAsAWrongPassword() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let services = harness.services
        let hasher = services.passwordHasher
        let before = hasher.completedOperations
        _ = try? await services.auth.login(username: "alice", password: "wrong password", remoteAddress: "a")
        let afterWrongPassword = hasher.completedOperations - before
        _ = try? await services.auth.login(username: "nobody-here", password: "wrong password", remoteAddress: "a")
        #expect(afterWrongPassword == 1)
        #expect(hasher.completedOperations - before == 2, "an unknown user must cost one Argon2 verification")
        #expect(PasswordHasher.concurrencyLimit == ProcessInfo.processInfo.activeProcessorCount)
    }

    @Test func oneAddressIsThrottledAcrossManyUsernames() async throws {
        let harness = try await Harness { $0.addressFailureLimit = 5 }
        try await harness.addUser()
        try await harness.test { client in
            for index in 0..<5 {
                let response = try await client.post("/v1/login", json: ["username": "user\(index)", "password": "wrong password"])
                #expect(response.status == .unauthorized)
            }
            let throttled = try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"])
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] == "60")
            let refresh = try await client.post("/v1/token/refresh", json: ["refresh_token": "whatever"])
            #expect(refresh.status == .tooManyRequests, "the token endpoint shares the address limit")
        }
    }
}
