import Foundation
import PortcullisCore
import PortcullisCrypto

extension StoreConformance {
    static let mfaChecks: [ConformanceCheck] = [
        ConformanceCheck("mfa.enrolmentConfirmationAndRemoval", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            try expect(try await store.totpCredential(userID: user.id), nil, "none yet")
            let pending = TOTPCredential(userID: user.id, sealedSecret: [1, 2, 3], parameters: TOTP(algorithm: .sha256, digits: 8, period: 60), createdAt: now)
            try await store.saveTOTPEnrolment(pending)
            try expect(try await store.totpCredential(userID: user.id), pending, "pending")
            var replacement = pending
            replacement.sealedSecret = [4, 5, 6]
            try await store.saveTOTPEnrolment(replacement)
            try expect(try await store.totpCredential(userID: user.id)?.sealedSecret, [4, 5, 6], "a pending enrolment is replaced")
            try expect(try await store.advanceTOTPStep(userID: user.id, to: 5), false, "a pending credential takes no step")
            try expect(try await store.confirmTOTP(userID: user.id, at: now, step: 10, recoveryCodeHashes: ["r1", "r2"]), true, "confirm")
            try expect(try await store.confirmTOTP(userID: user.id, at: now, step: 11, recoveryCodeHashes: ["r3"]), false, "confirm twice")
            let active = try await store.totpCredential(userID: user.id)
            try expect(active?.confirmedAt, now, "confirmed at")
            try expect(active?.lastUsedStep, 10, "the confirming step is used")
            try expect(try await store.remainingRecoveryCodes(userID: user.id), 2, "recovery codes")
            try await expectThrows(PortcullisError.conflict("TOTP is already active; remove it first"), "enrolling over an active credential") {
                try await store.saveTOTPEnrolment(pending)
            }
            try expect(try await store.deleteTOTP(userID: user.id), true, "delete")
            try expect(try await store.totpCredential(userID: user.id), nil, "deleted")
            try expect(try await store.remainingRecoveryCodes(userID: user.id), 0, "codes deleted")
            try expect(try await store.deleteTOTP(userID: user.id), false, "delete again")
            try expect(try await store.confirmTOTP(userID: user.id, at: now, step: 1, recoveryCodeHashes: []), false, "confirm nothing")
        }),
        ConformanceCheck("mfa.stepsOnlyAdvance", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            try await store.saveTOTPEnrolment(TOTPCredential(userID: user.id, sealedSecret: [1], parameters: .standard, createdAt: now))
            _ = try await store.confirmTOTP(userID: user.id, at: now, step: 10, recoveryCodeHashes: [])
            try expect(try await store.advanceTOTPStep(userID: user.id, to: 10), false, "the same step")
            try expect(try await store.advanceTOTPStep(userID: user.id, to: 9), false, "an earlier step")
            try expect(try await store.advanceTOTPStep(userID: user.id, to: 11), true, "a later step")
            try expect(try await store.totpCredential(userID: user.id)?.lastUsedStep, 11, "recorded")
            try expect(try await store.advanceTOTPStep(userID: "nobody", to: 12), false, "no credential")
        }),
        ConformanceCheck("mfa.recoveryCodesAreSingleUse", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            try await store.saveTOTPEnrolment(TOTPCredential(userID: user.id, sealedSecret: [1], parameters: .standard, createdAt: now))
            _ = try await store.confirmTOTP(userID: user.id, at: now, step: 1, recoveryCodeHashes: ["r1", "r2"])
            try expect(try await store.consumeRecoveryCode(userID: user.id, codeHash: "r1", at: now), true, "first use")
            try expect(try await store.consumeRecoveryCode(userID: user.id, codeHash: "r1", at: now), false, "second use")
            try expect(try await store.consumeRecoveryCode(userID: user.id, codeHash: "zz", at: now), false, "unknown code")
            try expect(try await store.consumeRecoveryCode(userID: "nobody", codeHash: "r2", at: now), false, "another user's code")
            try expect(try await store.remainingRecoveryCodes(userID: user.id), 1, "left")
        }),
        ConformanceCheck("mfa.challengesCountFailuresAndAreConsumedOnce", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            let challenge = MFAChallenge(tokenHash: "c1", userID: user.id, expiresAt: now.addingTimeInterval(300))
            try expect(try await store.mfaChallenge(tokenHash: "c1"), nil, "none yet")
            try await store.createMFAChallenge(challenge)
            try expect(try await store.mfaChallenge(tokenHash: "c1"), challenge, "stored")
            try expect(try await store.recordMFAChallengeFailure(tokenHash: "c1", maxFailures: 3), 1, "first failure")
            try expect(try await store.recordMFAChallengeFailure(tokenHash: "c1", maxFailures: 3), 2, "second failure")
            try expect(try await store.mfaChallenge(tokenHash: "c1")?.failures, 2, "failures stored")
            try expect(try await store.recordMFAChallengeFailure(tokenHash: "c1", maxFailures: 3), 3, "third failure")
            try expect(try await store.mfaChallenge(tokenHash: "c1"), nil, "the challenge dies at maxFailures")
            try await store.createMFAChallenge(MFAChallenge(tokenHash: "c2", userID: user.id, expiresAt: now.addingTimeInterval(300)))
            try expect(try await store.consumeMFAChallenge(tokenHash: "c2"), true, "consume")
            try expect(try await store.consumeMFAChallenge(tokenHash: "c2"), false, "consume again")
            try expect(try await store.recordMFAChallengeFailure(tokenHash: "c2", maxFailures: 3) >= 3, "a failure on a gone challenge reports it dead")
        }),
    ]

    static let decisionLogChecks: [ConformanceCheck] = [
        ConformanceCheck("decisionLog.keepsTheNewestCapacityNewestFirst", store: { store in
            func decision(_ index: Int) -> DecisionRecord {
                DecisionRecord(at: now.addingTimeInterval(Double(index)), subject: "alice", grantedRoles: index == 0 ? [] : ["admin", "viewer"],
                               action: "read", resource: "doc/\(index)", allowed: index % 2 == 0, rule: index == 1 ? nil : "p.yaml:\(index)",
                               policyVersion: "v1")
            }
            try expect(try await store.recentDecisions(limit: 10), [], "empty")
            try await store.appendDecisions((0..<3).map(decision), capacity: 5)
            try expect(try await store.recentDecisions(limit: 10), [decision(2), decision(1), decision(0)], "round trip, newest first")
            try await store.appendDecisions((3..<8).map(decision), capacity: 5)
            try expect(try await store.recentDecisions(limit: 10).map(\.resource), (3..<8).reversed().map { "doc/\($0)" }, "trimmed to capacity")
            try expect(try await store.recentDecisions(limit: 2).count, 2, "limit")
        }),
    ]
}
