import Foundation
import GRDB
import HummingbirdTesting
import NIOCore
import PortcullisCore
import PortcullisCrypto
import PortcullisServer
import Testing

/// Codes for an enrolled secret at the harness clock's time.
struct Authenticator {
    let secret: [UInt8]
    let totp: TOTP

    init(base32: String, totp: TOTP = .standard) throws {
        secret = try #require(Base32.decode(base32))
        self.totp = totp
    }

    func code(at date: Date, offset: Int64 = 0) -> String {
        totp.code(secret: secret, step: totp.step(at: Int64(date.timeIntervalSince1970)) + offset)
    }
}

extension TestClientProtocol {
    func delete(_ uri: String, json: [String: Any], bearer: String) async throws -> TestResponse {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        return try await execute(uri: uri, method: .delete, headers: [.contentType: "application/json", .authorization: "Bearer \(bearer)"], body: ByteBuffer(string: body))
    }

    /// Enrols and confirms TOTP for the bearer's user; returns the authenticator and the recovery codes.
    func enrolTOTP(bearer: String, clock: TestClock) async throws -> (Authenticator, [String]) {
        let enrolment = try await post("/v1/me/mfa/totp", json: [:], bearer: bearer).json()
        let authenticator = try Authenticator(base32: try #require(enrolment["secret"] as? String))
        let confirm = try await post("/v1/me/mfa/totp/confirm", json: ["code": authenticator.code(at: clock.now)], bearer: bearer)
        #expect(confirm.status == .ok, "confirm failed: \(String(buffer: confirm.body))")
        return (authenticator, try #require(try confirm.json()["recovery_codes"] as? [String]))
    }

    func mfaToken(_ username: String = "alice", _ password: String = "correct horse") async throws -> String {
        let answer = try await post("/v1/login", json: ["username": username, "password": password]).json()
        #expect(answer["mfa_required"] as? Bool == true)
        #expect(answer["access_token"] == nil && answer["refresh_token"] == nil)
        #expect(answer["methods"] as? [String] == ["totp"])
        return try #require(answer["mfa_token"] as? String)
    }
}

@Suite struct MFATests {
    @Test func enrolConfirmLoginReplayRecoveryAndRemoval() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let enrolment = try await client.post("/v1/me/mfa/totp", json: [:], bearer: access).json()
            let uri = try #require(enrolment["otpauth_uri"] as? String)
            let secret = try #require(enrolment["secret"] as? String)
            #expect(uri == "otpauth://totp/Portcullis:alice?secret=\(secret)&issuer=Portcullis&algorithm=SHA1&digits=6&period=30")
            #expect((enrolment["qr_svg"] as? String)?.hasPrefix("<svg") == true)
            let authenticator = try Authenticator(base32: secret)

            // Pending enrolment does not affect login.
            #expect(try await client.login()["access_token"] != nil)
            #expect(try await client.post("/v1/me/mfa/totp/confirm", json: ["code": "000000"], bearer: access).status == .badRequest)
            let confirm = try await client.post("/v1/me/mfa/totp/confirm", json: ["code": authenticator.code(at: harness.clock.now)], bearer: access)
            let recovery = try #require(try confirm.json()["recovery_codes"] as? [String])
            #expect(recovery.count == 10 && Set(recovery).count == 10)
            #expect((try await client.get("/v1/me", bearer: access).json()["mfa"] as? [String: Any])?["totp"] as? Bool == true)

            // Password alone no longer yields tokens.
            harness.clock.advance(30)
            let token = try await client.mfaToken()
            let wrong = try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": "123456" == authenticator.code(at: harness.clock.now) ? "654321" : "123456"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorCode == "invalid_code")
            let code = authenticator.code(at: harness.clock.now)
            let good = try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": code])
            #expect(good.status == .ok)
            #expect(try await client.isActive(try #require(try good.json()["access_token"] as? String)))

            // The same code (same step) never works twice, even with a fresh mfa_token.
            let again = try await client.post("/v1/login/mfa", json: ["mfa_token": try await client.mfaToken(), "code": code])
            #expect(again.status == .unauthorized)
            // Nor does the previous step's code.
            let earlier = try await client.post("/v1/login/mfa", json: ["mfa_token": try await client.mfaToken(), "code": authenticator.code(at: harness.clock.now, offset: -1)])
            #expect(earlier.status == .unauthorized)

            // A used mfa_token is dead.
            #expect(try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": authenticator.code(at: harness.clock.now, offset: 1)]).status == .unauthorized)

            // A recovery code works once, in any case and with or without dashes.
            let recoveryLogin = try await client.post("/v1/login/mfa", json: ["mfa_token": try await client.mfaToken(), "code": recovery[0].uppercased()])
            #expect(recoveryLogin.status == .ok)
            #expect(try await client.post("/v1/login/mfa", json: ["mfa_token": try await client.mfaToken(), "code": recovery[0]]).status == .unauthorized)
            #expect(try await client.post("/v1/login/mfa", json: ["mfa_token": try await client.mfaToken(), "code": recovery[1].replacingOccurrences(of: "-", with: "")]).status == .ok)

            // Removal needs the password and a current code (or a recovery code).
            #expect(try await client.delete("/v1/me/mfa/totp", json: ["password": "wrong password"], bearer: access).status == .badRequest)
            #expect(try await client.delete("/v1/me/mfa/totp", json: [:], bearer: access).status == .badRequest)
            harness.clock.advance(30)
            #expect(try await client.delete("/v1/me/mfa/totp", json: ["password": "correct horse", "code": authenticator.code(at: harness.clock.now)],
                                            bearer: access).status == .noContent)
            #expect(try await client.login()["access_token"] != nil, "password login works again without MFA")
        }
        let actions = Set(try await harness.store.recentAudit(limit: 100).map(\.action))
        for action in ["mfa.enrol", "mfa.confirm", "mfa.failure", "mfa.success", "mfa.recovery_code", "mfa.remove"] {
            #expect(actions.contains(action), "audit lacks \(action)")
        }
    }

    @Test func concurrentDoubleSubmitOfOneCodeLetsExactlyOneThrough() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let (authenticator, _) = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            harness.clock.advance(30)
            var tokens: [String] = []
            for _ in 0..<4 { tokens.append(try await client.mfaToken()) }
            let code = authenticator.code(at: harness.clock.now)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for token in tokens {
                    group.addTask { try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": code]).status.code }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 401 }.count == 3)
        }
    }

    @Test func mfaTokenExpiresAfterFiveMinutes() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let (authenticator, _) = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            let token = try await client.mfaToken()
            harness.clock.advance(301)
            let late = try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": authenticator.code(at: harness.clock.now)])
            #expect(late.status == .unauthorized)
            #expect(late.errorCode == "invalid_token")
        }
    }

    @Test func mfaTokenDiesAfterFiveWrongCodes() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let (authenticator, _) = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            harness.clock.advance(30)
            let token = try await client.mfaToken()
            let right = authenticator.code(at: harness.clock.now)
            let wrongCode = right == "111111" ? "222222" : "111111"
            for _ in 0..<5 {
                #expect(try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": wrongCode]).errorCode == "invalid_code")
            }
            let after = try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": right])
            #expect(after.status == .unauthorized)
            #expect(after.errorCode == "invalid_token")
        }
    }

    @Test func mfaTokenOfOneUserDoesNotTakeAnotherUsersCode() async throws {
        let harness = try await Harness()
        try await harness.addUser("alice")
        try await harness.addUser("bob")
        try await harness.test { client in
            let aliceAccess = try #require(try await client.login("alice")["access_token"] as? String)
            let bobAccess = try #require(try await client.login("bob")["access_token"] as? String)
            _ = try await client.enrolTOTP(bearer: aliceAccess, clock: harness.clock)
            let (bob, bobRecovery) = try await client.enrolTOTP(bearer: bobAccess, clock: harness.clock)
            harness.clock.advance(30)
            let aliceToken = try await client.mfaToken("alice")
            // Bob's code is (with overwhelming probability) not Alice's, and his recovery codes are his own.
            #expect(try await client.post("/v1/login/mfa", json: ["mfa_token": aliceToken, "code": bobRecovery[0]]).status == .unauthorized)
            let bobCode = bob.code(at: harness.clock.now)
            let withBobsCode = try await client.post("/v1/login/mfa", json: ["mfa_token": aliceToken, "code": bobCode])
            #expect(withBobsCode.status == .unauthorized)
            // Bob's recovery code still works for Bob.
            #expect(try await client.post("/v1/login/mfa", json: ["mfa_token": try await client.mfaToken("bob"), "code": bobRecovery[0]]).status == .ok)
        }
    }

    @Test func mfaFailuresCountTowardTheAccountLockout() async throws {
        let harness = try await Harness { $0.accountFailureLimit = 3 }
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let (authenticator, _) = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            harness.clock.advance(30)
            let right = authenticator.code(at: harness.clock.now)
            let wrongCode = right == "111111" ? "222222" : "111111"
            let token = try await client.mfaToken()
            for _ in 0..<3 { _ = try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": wrongCode]) }
            let locked = try await client.post("/v1/login/mfa", json: ["mfa_token": token, "code": right])
            #expect(locked.status == .tooManyRequests)
        }
    }

    @Test func expiredEnrolmentCannotBeConfirmed() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let enrolment = try await client.post("/v1/me/mfa/totp", json: [:], bearer: access).json()
            let authenticator = try Authenticator(base32: try #require(enrolment["secret"] as? String))
            harness.clock.advance(601)
            let late = try await client.post("/v1/me/mfa/totp/confirm", json: ["code": authenticator.code(at: harness.clock.now)], bearer: access)
            #expect(late.status == .badRequest)
            #expect(try await client.login()["access_token"] != nil)
        }
    }

    @Test func sha256AndEightDigitsAreSupported() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let enrolment = try await client.post("/v1/me/mfa/totp", json: ["algorithm": "SHA256", "digits": 8], bearer: access).json()
            #expect((enrolment["otpauth_uri"] as? String)?.hasSuffix("algorithm=SHA256&digits=8&period=30") == true)
            let authenticator = try Authenticator(base32: try #require(enrolment["secret"] as? String), totp: TOTP(algorithm: .sha256, digits: 8, period: 30))
            #expect(try await client.post("/v1/me/mfa/totp/confirm", json: ["code": authenticator.code(at: harness.clock.now)], bearer: access).status == .ok)
            harness.clock.advance(30)
            let code = authenticator.code(at: harness.clock.now)
            #expect(code.count == 8)
            #expect(try await client.post("/v1/login/mfa", json: ["mfa_token": try await client.mfaToken(), "code": code]).status == .ok)
            #expect(try await client.post("/v1/me/mfa/totp", json: ["digits": 7], bearer: access).status == .badRequest)
        }
    }

    @Test func activeTOTPCannotBeReEnrolledWithoutRemoval() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            _ = try await client.enrolTOTP(bearer: access, clock: harness.clock)
            #expect(try await client.post("/v1/me/mfa/totp", json: [:], bearer: access).status == .conflict)
            #expect(try await harness.admin.resetMFA("alice"))
            #expect(try await harness.admin.showUser("alice").mfa == false)
            #expect(try await client.login()["access_token"] != nil)
        }
    }

    @Test func noTableHoldsTheSecretInAnyForm() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let secret = try await harness.test { client in
            let access = try #require(try await client.login()["access_token"] as? String)
            let enrolment = try await client.post("/v1/me/mfa/totp", json: [:], bearer: access).json()
            let secret = try #require(enrolment["secret"] as? String)
            let authenticator = try Authenticator(base32: secret)
            _ = try await client.post("/v1/me/mfa/totp/confirm", json: ["code": authenticator.code(at: harness.clock.now)], bearer: access)
            return secret
        }
        let raw = try #require(Base32.decode(secret))
        let needles: [[UInt8]] = [Array(secret.utf8), Array(secret.lowercased().utf8), raw, Array(hexString(raw).utf8), Array(Base64URL.encode(raw).utf8)]
        let scanned = try await harness.store.databaseWriter.read { db in
            var scanned = 0
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") {
                    for (column, value) in row {
                        let bytes: [UInt8] = switch value.storage {
                        case .blob(let data): [UInt8](data)
                        case .string(let text): Array(text.utf8)
                        case .int64(let number): Array(String(number).utf8)
                        case .double(let number): Array(String(number).utf8)
                        case .null: []
                        }
                        scanned += 1
                        for needle in needles {
                            #expect(!contains(bytes, needle), "\(table).\(column) holds the TOTP secret")
                        }
                    }
                }
            }
            return scanned
        }
        #expect(scanned > 20)
    }
}

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
        return true
    }
    return false
}
