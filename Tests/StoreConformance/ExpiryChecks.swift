import Foundation
import PortcullisCore

extension StoreConformance {
    static let expiryChecks: [ConformanceCheck] = [
        ConformanceCheck("expiry.removesRowsExpiredBeforeTheCutoffAndKeepsLiveOnes") { factory in
            let (store, user) = try await storeWithClient(factory)
            let cutoff = now
            let past = now.addingTimeInterval(-1)
            let future = now.addingTimeInterval(1)
            try await store.createAuthorizationCode(makeCode("old-code", user: user, expiresAt: past))
            try await store.createAuthorizationCode(makeCode("new-code", user: user, expiresAt: future))
            try await store.createBrowserSession(BrowserSession(idHash: "old-k", userID: user.id, authTime: past, amr: ["pwd"], expiresAt: past))
            try await store.createBrowserSession(BrowserSession(idHash: "new-k", userID: user.id, authTime: past, amr: ["pwd"], expiresAt: future))
            try await store.createMFAChallenge(MFAChallenge(tokenHash: "old-c", userID: user.id, expiresAt: past))
            try await store.createMFAChallenge(MFAChallenge(tokenHash: "new-c", userID: user.id, expiresAt: future))
            try await store.saveWebAuthnChallenge(WebAuthnChallenge(key: "old-w", purpose: "register", userID: user.id, challenge: [1], expiresAt: past))
            try await store.saveWebAuthnChallenge(WebAuthnChallenge(key: "old-anonymous-w", purpose: "login", userID: nil, challenge: [2], expiresAt: past))
            try await store.saveWebAuthnChallenge(WebAuthnChallenge(key: "new-w", purpose: "login", userID: nil, challenge: [3], expiresAt: future))
            try await store.revokeAccessToken(jti: "old-j", expiresAt: past, at: past)
            try await store.revokeAccessToken(jti: "new-j", expiresAt: future, at: past)
            let removed = try await store.removeExpired(ExpiryCutoff(expiredBefore: cutoff, tokenlessFamiliesStartedBefore: cutoff, keepDecisions: 100))
            var expected = RemovedRows()
            expected.codes = 1
            expected.browserSessions = 1
            expected.mfaChallenges = 1
            expected.webAuthnChallenges = 2
            expected.revokedAccessTokens = 1
            try expect(removed, .swept(expected), "removed")
            try expect(try await store.redeemAuthorizationCode(hash: "old-code", familyID: "f", accessTokenID: "j", at: past) { _ in nil }, .unknown, "expired code")
            try expect(try await store.redeemAuthorizationCode(hash: "new-code", familyID: "f", accessTokenID: "j", at: past) { _ in nil }.isRedeemed, "live code")
            try expect(try await store.browserSession(idHash: "new-k", at: past) != nil, "live browser session")
            try expect(try await store.deleteBrowserSession(idHash: "old-k"), false, "expired browser session")
            try expect(try await store.mfaChallenge(tokenHash: "old-c"), nil, "expired challenge")
            try expect(try await store.mfaChallenge(tokenHash: "new-c") != nil, "live challenge")
            try expect(try await store.consumeWebAuthnChallenge(key: "old-w"), nil, "expired WebAuthn challenge")
            try expect(try await store.consumeWebAuthnChallenge(key: "old-anonymous-w"), nil, "expired WebAuthn challenge of nobody")
            try expect(try await store.consumeWebAuthnChallenge(key: "new-w")?.challenge, [3], "live WebAuthn challenge")
            try expect(try await store.isAccessTokenRevoked(jti: "old-j"), false, "a revocation past its token's expiry")
            try expect(try await store.isAccessTokenRevoked(jti: "new-j"), true, "a live revocation")
            try expect(try await store.removeExpired(ExpiryCutoff(expiredBefore: cutoff, tokenlessFamiliesStartedBefore: cutoff, keepDecisions: 100)),
                       .swept(RemovedRows()), "a second sweep removes nothing")
        },
        ConformanceCheck("expiry.keepsWhatReuseDetectionNeedsAndRemovesDeadFamilies") { factory in
            let (store, user) = try await storeWithClient(factory)
            let cutoff = now.addingTimeInterval(1000)
            // live: rotated once; the used token is needed to detect its reuse.
            try await store.createFamily(TokenFamily(id: "live", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("l1", ttl: 2000))
            _ = try await store.rotate(presentedHash: "l1", owner: .firstParty, successor: record("l2", ttl: 2000), at: now, graceWindow: 0)
            // stale: a live family with one expired token beside a live one.
            try await store.createFamily(TokenFamily(id: "mixed", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("m1", ttl: 10))
            _ = try await store.rotate(presentedHash: "m1", owner: .firstParty, successor: record("m2", ttl: 2000), at: now, graceWindow: 0)
            // revoked before the cutoff, revoked after it.
            try await store.createFamily(TokenFamily(id: "revoked", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("r1", ttl: 2000))
            _ = try await store.revokeFamily(id: "revoked", reason: "logout", at: now)
            try await store.createFamily(TokenFamily(id: "revoked-late", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("rl", ttl: 2000))
            _ = try await store.revokeFamily(id: "revoked-late", reason: "logout", at: cutoff.addingTimeInterval(1))
            // every token expired; no token ever, started long ago; no token, started recently.
            try await store.createFamily(TokenFamily(id: "expired", userID: user.id, clientID: "app", scope: "s", createdAt: now), firstToken: record("e1", ttl: 10))
            try await store.createFamily(TokenFamily(id: "tokenless-old", userID: user.id, clientID: "app", scope: "s", createdAt: now), firstToken: nil)
            try await store.createFamily(TokenFamily(id: "tokenless-new", userID: user.id, clientID: "app", scope: "s", createdAt: now.addingTimeInterval(500)), firstToken: nil)

            let removed = try await store.removeExpired(ExpiryCutoff(expiredBefore: cutoff, tokenlessFamiliesStartedBefore: now.addingTimeInterval(100), keepDecisions: 100)).removed
            try expect(removed.refreshTokens, 2, "expired refresh tokens (m1, e1)")
            try expect(removed.families, 3, "dead families (revoked, expired, tokenless-old)")
            for id in ["live", "mixed", "revoked-late", "tokenless-new"] {
                try expect(try await store.family(id: id) != nil, "family \(id) kept")
            }
            for id in ["revoked", "expired", "tokenless-old"] {
                try expect(try await store.family(id: id), nil, "family \(id) removed")
            }
            try expect(try await store.rotate(presentedHash: "l1", owner: .firstParty, successor: record("l3"), at: now.addingTimeInterval(5), graceWindow: 0),
                       .reused(familyID: "live"), "a used token of a live family is still recognised as reuse")
            try expect(try await store.family(ofTokenHash: "m2")?.id, "mixed", "a live token of a family with an expired one")
        },
        ConformanceCheck("expiry.trimsTheDecisionLogToItsCapacity", store: { store in
            let records = (0..<7).map { index in
                DecisionRecord(at: now, subject: "s", grantedRoles: [], action: "a", resource: "r\(index)", allowed: true, rule: nil, policyVersion: "v")
            }
            try await store.appendDecisions(records, capacity: 100)
            let removed = try await store.removeExpired(ExpiryCutoff(expiredBefore: now, tokenlessFamiliesStartedBefore: now, keepDecisions: 3)).removed
            try expect(removed.decisions, 4, "trimmed")
            try expect(try await store.recentDecisions(limit: 10).map(\.resource), ["r6", "r5", "r4"], "the newest kept")
        }),
    ]
}
