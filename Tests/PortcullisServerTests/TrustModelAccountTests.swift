import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PortcullisCore
import PortcullisCrypto
import PortcullisPolicy
import PortcullisServer
import Testing

/// Issue 13, items 3–7: race-proof throttling, sessions that end with credentials, TOTP removal,
/// canonical resources, disabled subjects, usernames outside the rules.
@Suite struct TrustModelAccountTests {
    /// A harness whose address limit cannot interfere: only the account lockout is under test.
    func harness() async throws -> Harness {
        try await Harness { $0.addressFailureLimit = 100_000 }
    }

    func statuses(_ responses: [TestResponse]) -> [HTTPResponse.Status: Int] {
        responses.reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }

    @Test func concurrentWrongPasswordsEvaluateAtMostTheThreshold() async throws {
        let harness = try await harness()
        try await harness.addUser()
        try await harness.test { client in
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for index in 0..<31 {
                    let password = index == 17 ? "correct horse" : "wrong password \(index)"
                    group.addTask { try await client.post("/v1/login", json: ["username": "alice", "password": password]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let counts = statuses(responses)
            let evaluated = counts[.unauthorized, default: 0] + counts[.ok, default: 0]
            #expect(evaluated <= 10, "at most the threshold of guesses may be evaluated: \(counts)")
            #expect(counts[.tooManyRequests, default: 0] >= 21)
            #expect(responses.filter { $0.status == .tooManyRequests }.allSatisfy { $0.headers[.retryAfter] != nil })
            let failures = try await harness.store.recentAudit(limit: 1000).filter { $0.action == "login.failure" }
            #expect(failures.count <= 10)
        }
    }

    @Test func lockedAccountCostsNoArgon2AndNoAuditRow() async throws {
        let harness = try await harness()
        try await harness.addUser()
        try await harness.test { client in
            for index in 0..<10 {
                _ = try await client.post("/v1/login", json: ["username": "alice", "password": "wrong \(index)"])
            }
            let before = try await harness.store.recentAudit(limit: 1000)
            #expect(before.filter { $0.action == "account.locked" }.count == 1, "the lock is audited once")
            for _ in 0..<20 {
                let response = try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"])
                #expect(response.status == .tooManyRequests, "a locked account is refused before its password is checked")
            }
            let after = try await harness.store.recentAudit(limit: 1000)
            #expect(after.count == before.count, "no audit row per refused request")
        }
    }

    @Test func concurrentWrongTOTPCodesEvaluateAtMostTheThreshold() async throws {
        let harness = try await harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let (authenticator, _) = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            let right = authenticator.code(at: harness.clock.now)
            let wrong = String(format: "%06d", (Int(right)! + 1) % 1_000_000)
            // Seven challenges (five codes each at most): the password step gives its attempt back.
            var challenges: [String] = []
            for _ in 0..<7 {
                let answer = try await client.post("/v1/login", json: ["username": "alice", "password": "correct horse"]).json()
                challenges.append(try #require(answer["mfa_token"] as? String))
            }
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for index in 0..<35 {
                    let token = challenges[index % 7]
                    group.addTask { try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": wrong]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let counts = statuses(responses)
            #expect(counts[.unauthorized, default: 0] <= 10, "at most the threshold of codes may be evaluated: \(counts)")
            #expect(counts[.tooManyRequests, default: 0] >= 25)
            #expect(try await harness.store.recentAudit(limit: 1000).filter { $0.action == "mfa.failure" }.count <= 10)
        }
    }

    /// Signs a browser in (a session cookie) and returns whether `/oauth2/authorize` still issues a code for it.
    func browserStillSignedIn(_ browser: Browser) async throws -> Bool {
        let response = try await browser.get(authorizeURI(standardRequest()))
        return response.status == .seeOther && response.redirectParameters["code"] != nil
    }

    @Test func browserSessionsEndWithPasswordChangeResetDisableAndMFAChanges() async throws {
        let harness = try await harness()
        try await harness.addUser()
        try await harness.addClient(firstParty: true)
        try await harness.test { client in
            func signedInBrowser() async throws -> Browser {
                let browser = Browser(client)
                _ = try await browser.authorize(standardRequest())
                #expect(try await browserStillSignedIn(browser))
                return browser
            }
            var password = "correct horse"
            // The user's own password change.
            var browser = try await signedInBrowser()
            let access = try #require(try await client.login("alice", password)["access_token"] as? String)
            let change = try await client.post("/v1/me/password", json: ["current_password": password, "new_password": "second horse"], bearer: access)
            #expect(change.status == .noContent)
            password = "second horse"
            #expect(try await browserStillSignedIn(browser) == false, "password change")
            // Helper: sign in with the current password.
            func signIn() async throws -> Browser {
                let browser = Browser(client)
                let response = try await browser.signIn(standardRequest(), password: password)
                #expect(response.status == .seeOther)
                return browser
            }
            browser = try await signIn()
            try await harness.admin.setPassword("alice", password: "third horse")
            password = "third horse"
            #expect(try await browserStillSignedIn(browser) == false, "operator reset")
            browser = try await signIn()
            try await harness.admin.setDisabled("alice", disabled: true)
            try await harness.admin.setDisabled("alice", disabled: false)
            #expect(try await browserStillSignedIn(browser) == false, "disable (and enable again)")
            // MFA reset by an operator.
            let token = try #require(try await client.login("alice", password)["access_token"] as? String)
            _ = try await client.enrolTOTP(bearer: token, clock: harness.clock)
            browser = Browser(client)
            let mfaPage = try await browser.signIn(standardRequest(), password: password)
            #expect(mfaPage.text.contains("id=\"mfa\""), "the MFA page is shown")
            _ = try await harness.admin.resetMFA("alice")
            browser = try await signIn()
            #expect(try await browserStillSignedIn(browser))
            #expect(try await client.isActive(token) == false, "the reset ended the token sessions too")
            // The user's own TOTP removal.
            let fresh = try #require(try await client.login("alice", password)["access_token"] as? String)
            let (authenticator, _) = try await client.enrolTOTP(bearer: fresh, clock: harness.clock)
            harness.clock.advance(31)
            let removal = try await client.delete("/v1/me/mfa/totp", json: ["password": password, "code": authenticator.code(at: harness.clock.now)], bearer: fresh)
            #expect(removal.status == .noContent, "\(removal.text)")
            #expect(try await browserStillSignedIn(browser) == false, "MFA removal")
        }
    }

    @Test func totpRemovalNeedsPasswordAndCodeAndRespectsLockout() async throws {
        let harness = try await harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let (authenticator, recovery) = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            func remove(_ body: [String: Any]) async throws -> TestResponse { try await client.delete("/v1/me/mfa/totp", json: body, bearer: access) }
            func code() -> String { harness.clock.advance(30); return authenticator.code(at: harness.clock.now) }
            #expect(try await remove(["password": "correct horse"]).status == .badRequest, "the password alone")
            #expect(try await remove(["code": code()]).status == .badRequest, "a code alone")
            #expect(try await remove(["password": "wrong horse", "code": code()]).status == .unauthorized)
            #expect(try await remove(["password": "correct horse", "code": "000000"]).status == .unauthorized)
            let profile = try await client.get("/v1/me", bearer: access).json()
            #expect((profile["mfa"] as? [String: Any])?["totp"] as? Bool == true, "TOTP stays after failed removals")
            // Lock the account, then even the right password and code are refused.
            for index in 0..<10 {
                _ = try await client.post("/v1/login", json: ["username": "alice", "password": "wrong \(index)"])
            }
            #expect(try await remove(["password": "correct horse", "code": code()]).status == .tooManyRequests)
            _ = try await harness.admin.unlock("alice")
            #expect(try await remove(["password": "correct horse", "code": recovery[0]]).status == .noContent, "a recovery code works too")
        }
    }

    @Test(arguments: ["documents/./secret/x", "documents//secret/x", "documents/a/../secret/x", "documents/secret/.", "../documents/x"])
    func nonCanonicalResourcesAreRefused(resource: String) async throws {
        let harness = try await harness()
        try await harness.addUser(roles: ["editor"])
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let response = try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": resource])
            #expect(response.status == .badRequest && response.errorCode == "invalid_request")
            #expect((try response.json()["error_description"] as? String)?.contains("canonical") == true)
            let denied = try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": "documents/secret/x"]).json()
            #expect(denied["allowed"] as? Bool == false)
            let allowed = try await client.post("/v1/authorize", json: ["token": access, "action": "write", "resource": "documents/x"]).json()
            #expect(allowed["allowed"] as? Bool == true)
        }
    }

    @Test func disabledSubjectIsNotAllowed() async throws {
        let harness = try await harness()
        try await harness.addUser("checker", roles: ["authz-checker"])
        // `svc-billing` has static bindings in the test policy; a disabled user of that name must not inherit them.
        try await harness.addUser("svc-billing")
        try await harness.test { client in
            let access = try #require(try await client.login("checker")["access_token"] as? String)
            let body: [String: Any] = ["subject": "svc-billing", "action": "read", "resource": "documents/x"]
            #expect(try await client.post("/v1/authorize", json: body, bearer: access).json()["allowed"] as? Bool == true)
            try await harness.admin.setDisabled("svc-billing", disabled: true)
            let answer = try await client.post("/v1/authorize", json: body, bearer: access).json()
            #expect(answer["allowed"] as? Bool == false && answer["reason"] as? String == "subject disabled")
        }
    }

    @Test func loginWithUsernameOutsideTheRulesWritesNoAuditRow() async throws {
        let harness = try await harness()
        try await harness.addUser()
        try await harness.test { client in
            let before = try await harness.store.recentAudit(limit: 1000).count
            for name in ["\u{1B}[2Jroot", "alice\nlogin.success", "bad name", String(repeating: "a", count: 65)] {
                let response = try await client.post("/v1/login", json: ["username": name, "password": "whatever password"])
                #expect(response.status == .unauthorized && response.errorCode == "invalid_credentials")
            }
            #expect(try await harness.store.recentAudit(limit: 1000).count == before)
            _ = try await client.post("/v1/login", json: ["username": "nobody", "password": "whatever password"])
            #expect(try await harness.store.recentAudit(limit: 1000).count == before + 1, "a well-formed unknown name is audited as before")
        }
    }
}
