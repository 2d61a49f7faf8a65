import Foundation
import PortcullisCore

extension StoreConformance {
    static let clientChecks: [ConformanceCheck] = [
        ConformanceCheck("client.registerReadListAndConflict", store: { store in
            try expect(try await store.client(id: "app"), nil, "none yet")
            let confidential = makeClient("app", secretHash: "abc")
            var public_ = makeClient("native")
            public_.firstParty = true
            public_.pkceRequired = true
            public_.resources = []
            try await store.createClient(confidential)
            try await store.createClient(public_)
            try expect(try await store.client(id: "app"), confidential, "every field round-trips")
            try expect(try await store.client(id: "native"), public_, "a public first-party client")
            try expect(try await store.allClients().map(\.id), ["app", "native"], "listed by id")
            try await expectThrows(PortcullisError.conflict("client app exists"), "the same id again") {
                try await store.createClient(makeClient("app"))
            }
        }),
        ConformanceCheck("client.concurrentReadsEachGetTheirOwnClient", store: { store in
            // Concurrent reads may be answered together (see the liveness check): each must get its own client, or none.
            let ids = ["a", "b", "c", "missing", "d"]
            for id in ids where id != "missing" { try await store.createClient(makeClient(id)) }
            let answers = try await concurrently(60) { index in (index, try await store.client(id: ids[index % ids.count])?.id) }
            let wrong = answers.filter { index, id in id != (ids[index % ids.count] == "missing" ? nil : ids[index % ids.count]) }.map(\.0).sorted()
            try expect(wrong, [], "reads answered with another read's client")
        }),
        ConformanceCheck("client.deleteCascadesToCodesConsentsAndFamilies") { factory in
            let (store, user) = try await storeWithClient(factory)
            try await store.createAuthorizationCode(makeCode("code", user: user))
            try await store.recordConsent(userID: user.id, clientID: "app", scopes: ["openid"], at: now)
            try await store.createFamily(TokenFamily(id: "f", userID: user.id, clientID: "app", scope: "openid", createdAt: now), firstToken: record("h"))
            try expect(try await store.deleteClient(id: "app"), true, "delete")
            try expect(try await store.client(id: "app"), nil, "gone")
            try expect(try await store.redeemAuthorizationCode(hash: "code", familyID: "f2", accessTokenID: "j", at: now) { _ in nil }, .unknown, "its codes")
            try expect(try await store.consentedScopes(userID: user.id, clientID: "app"), [], "its consents")
            try expect(try await store.family(id: "f"), nil, "its families")
            try expect(try await store.deleteClient(id: "app"), false, "delete again")
        },
    ]

    static let codeChecks: [ConformanceCheck] = [
        ConformanceCheck("code.redeemOnceThenReplayRevokesTheFamily") { factory in
            let (store, user) = try await storeWithClient(factory)
            let code = makeCode("code", user: user)
            try await store.createAuthorizationCode(code)
            let seen = Locked<AuthorizationCodeRecord?>(nil)
            let first = try await store.redeemAuthorizationCode(hash: "code", familyID: "fam", accessTokenID: "jti", at: now) { record in
                seen.set(record)
                return nil
            }
            try expect(seen.value, code, "check sees the stored record")
            var redeemed = code
            redeemed.familyID = "fam"
            redeemed.accessTokenID = "jti"
            try expect(first, .redeemed(redeemed), "first redemption records family and jti")
            try expect(try await store.wasAuthorizationCodeReplayed(hash: "code"), false, "not replayed yet")
            try await store.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: "app", scope: "openid", createdAt: now), firstToken: record("r"))
            let replay = try await store.redeemAuthorizationCode(hash: "code", familyID: "fam2", accessTokenID: "jti2", at: now.addingTimeInterval(1)) { _ in nil }
            try expect(replay, .replayed(redeemed), "a replay returns the first redemption")
            try expect(try await store.wasAuthorizationCodeReplayed(hash: "code"), true, "replay remembered")
            try expect(try await store.family(id: "fam")?.revokedReason, "code_replay", "the first redemption's family is revoked")
            try expect(try await store.redeemAuthorizationCode(hash: "nope", familyID: "f", accessTokenID: "j", at: now) { _ in nil }, .unknown, "unknown code")
            try expect(try await store.wasAuthorizationCodeReplayed(hash: "nope"), false, "unknown code was not replayed")
        },
        ConformanceCheck("code.aRejectedRedemptionConsumesNothing") { factory in
            let (store, user) = try await storeWithClient(factory)
            try await store.createAuthorizationCode(makeCode("code", user: user))
            let problem = OAuthError(.invalidGrant, "redirect_uri does not match")
            try expect(try await store.redeemAuthorizationCode(hash: "code", familyID: "f", accessTokenID: "j", at: now) { _ in problem },
                       .rejected(problem), "rejected")
            try expect(try await store.redeemAuthorizationCode(hash: "code", familyID: "f", accessTokenID: "j", at: now) { _ in nil }.isRedeemed,
                       "the code still redeems after a rejection")
        },
    ]

    static let consentChecks: [ConformanceCheck] = [
        ConformanceCheck("consent.scopesAccumulatePerUserAndClient") { factory in
            let (store, user) = try await storeWithClient(factory)
            try await store.createClient(makeClient("other"))
            try expect(try await store.consentedScopes(userID: user.id, clientID: "app"), [], "none yet")
            try await store.recordConsent(userID: user.id, clientID: "app", scopes: ["openid", "profile"], at: now)
            try await store.recordConsent(userID: user.id, clientID: "app", scopes: ["email"], at: now)
            try expect(try await store.consentedScopes(userID: user.id, clientID: "app"), ["openid", "profile", "email"], "merged")
            try expect(try await store.consentedScopes(userID: user.id, clientID: "other"), [], "another client")
        },
    ]

    static let browserSessionChecks: [ConformanceCheck] = [
        ConformanceCheck("browserSession.liveUntilExpiryAndDeletedOnce") { factory in
            let (store, user) = try await storeWithClient(factory)
            let session = BrowserSession(idHash: "k", userID: user.id, authTime: now, amr: ["pwd", "otp"], expiresAt: now.addingTimeInterval(100))
            try await store.createBrowserSession(session)
            try expect(try await store.browserSession(idHash: "k", at: now), session, "live")
            try expect(try await store.browserSession(idHash: "k", at: now.addingTimeInterval(100)), nil, "expired at its expiry")
            try expect(try await store.browserSession(idHash: "other", at: now), nil, "unknown")
            try expect(try await store.deleteBrowserSession(idHash: "k"), true, "delete")
            try expect(try await store.browserSession(idHash: "k", at: now), nil, "deleted")
            try expect(try await store.deleteBrowserSession(idHash: "k"), false, "delete again")
        },
    ]

    static let erasureChecks: [ConformanceCheck] = [
        ConformanceCheck("user.eraseRemovesEverythingAndPseudonymisesTheAudit") { factory in
            let (store, user) = try await storeWithClient(factory)
            let bob = makeUser("bob")
            try await store.createUser(bob)
            _ = try await store.grantRole("admin", toUserID: user.id, at: now)
            try await store.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("t"))
            try await store.recordConsent(userID: user.id, clientID: "app", scopes: ["openid"], at: now)
            try await store.createAuthorizationCode(makeCode("code", user: user))
            try await store.createBrowserSession(BrowserSession(idHash: "k", userID: user.id, authTime: now, amr: ["pwd"], expiresAt: now.addingTimeInterval(60)))
            try await store.addPasskey(makePasskey("pk", user: user, credential: 1))
            _ = try await store.ensureWebAuthnUserHandle(userID: user.id, candidate: [1])
            _ = try await store.reserveAttempt(key: "alice", at: now, resetAfter: 900) { _ in nil }
            _ = try await store.reserveAttempt(key: "bob", at: now, resetAfter: 900) { _ in nil }
            try await store.appendDecisions([DecisionRecord(at: now, subject: "alice", grantedRoles: [], action: "a", resource: "r", allowed: true, rule: nil, policyVersion: "v"),
                                             DecisionRecord(at: now, subject: "bob", grantedRoles: [], action: "a", resource: "r", allowed: true, rule: nil, policyVersion: "v")],
                                            capacity: 10)
            try await store.appendAudit(AuditEvent(at: now, action: "login.success", actor: user.id, subject: "alice", remoteAddress: "10.0.0.1", detail: "x"))
            try await store.appendAudit(AuditEvent(at: now, action: "login.success", actor: bob.id, subject: "bob", remoteAddress: "10.0.0.2"))
            try await store.appendAudit(AuditEvent(at: now, action: "token.refresh", actor: "anonymous", subject: "fam"))
            let erasedAt = now.addingTimeInterval(30)
            let erased = try await store.eraseUser(id: user.id, username: "alice", pseudonym: "erased-1", at: erasedAt)
            try expect(erased.count, 2, "pseudonymised rows: alice's login and her family's refresh")
            try expect(try await store.user(id: user.id), nil, "user gone")
            try expect(try await store.user(id: bob.id) != nil, "bob stays")
            try expect(try await store.consentedScopes(userID: user.id, clientID: "app"), [], "consents gone")
            try expect(try await store.redeemAuthorizationCode(hash: "code", familyID: "f", accessTokenID: "j", at: now) { _ in nil }, .unknown, "codes gone")
            try expect(try await store.browserSession(idHash: "k", at: now), nil, "browser sessions gone")
            try expect(try await store.passkeyCount(userID: user.id), 0, "passkeys gone")
            try expect(try await store.userID(webAuthnUserHandle: [1]), nil, "WebAuthn user handle gone")
            try expect(try await store.lockoutState(key: "alice").failures, 0, "lockout gone")
            try expect(try await store.lockoutState(key: "bob").failures, 1, "bob's lockout stays")
            try expect(try await store.recentDecisions(limit: 10).map(\.subject), ["bob"], "decisions gone")
            let entries = try await store.auditEntries()
            try expect(entries.map(\.pseudonymised), [true, false, true, false], "rows marked")
            try expect(entries[0].event.actor, "erased-1", "actor pseudonymised")
            try expect(entries[0].event.remoteAddress, nil, "address cleared")
            try expect(entries[2].event.subject, "erased-1", "family id pseudonymised")
            try expect(entries[3].event.action, "user.erase", "the erasure is audited")
            try expect(entries[3].event.at, erasedAt, "at the caller's time")
            guard case .intact = AuditChain.verify(entries) else { try expect(false, "intact chain, saw \(AuditChain.verify(entries))"); return }
            try expect(try await store.eraseUser(id: user.id, username: "alice", pseudonym: "erased-2", at: erasedAt), [], "absent user")
        },
    ]
}

/// A value set from a `@Sendable` closure and read after it ran.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    func set(_ value: Value) { lock.withLock { stored = value } }
    var value: Value { lock.withLock { stored } }
}
