import Foundation
import PortcullisCore

extension StoreConformance {
    static let sessionChecks: [ConformanceCheck] = [
        ConformanceCheck("session.createFamilyAndFindItByIDAndToken") { factory in
            let (store, user) = try await storeWithSession(factory)
            let family = TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "openid", createdAt: now)
            try expect(try await store.family(id: "fam"), family, "by id")
            try expect(try await store.family(ofTokenHash: "t1"), family, "by token hash")
            try expect(try await store.liveFamily(ofRefreshTokenHash: "t1", at: now), family, "live token")
            try expect(try await store.family(id: "nope"), nil, "unknown id")
            try expect(try await store.family(ofTokenHash: "nope"), nil, "unknown token")
            try await store.createFamily(TokenFamily(id: "bare", userID: user.id, clientID: nil, scope: "s", resources: ["https://api"], createdAt: now), firstToken: nil)
            try expect(try await store.family(id: "bare")?.resources, ["https://api"], "a family without a refresh token keeps its resources")
        },
        ConformanceCheck("session.liveFamilyIgnoresUsedExpiredAndRevokedTokens") { factory in
            let (store, _) = try await storeWithSession(factory, firstTokenTTL: 100)
            try expect(try await store.liveFamily(ofRefreshTokenHash: "t1", at: now.addingTimeInterval(101)), nil, "expired token")
            _ = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2"), at: now, graceWindow: 0)
            try expect(try await store.liveFamily(ofRefreshTokenHash: "t1", at: now), nil, "used token")
            try expect(try await store.liveFamily(ofRefreshTokenHash: "t2", at: now)?.id, "fam", "its successor")
            _ = try await store.revokeFamily(id: "fam", reason: "logout", at: now)
            try expect(try await store.liveFamily(ofRefreshTokenHash: "t2", at: now), nil, "revoked family")
        },
        ConformanceCheck("session.rotationConsumesTheTokenAndReuseRevokesTheFamily") { factory in
            let (store, _) = try await storeWithSession(factory)
            let first = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2"), at: now, graceWindow: 0)
            guard case .rotated(let family, graceRetry: false) = first else { try expect(first.isRotation, "a first rotation, saw \(first)"); return }
            try expect(family.id, "fam", "rotated family")
            try expect(try await store.family(ofTokenHash: "t2")?.id, "fam", "the successor joins the family")
            let replay = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t3"), at: now.addingTimeInterval(1), graceWindow: 0)
            try expect(replay, .reused(familyID: "fam"), "replay of a used token")
            let revoked = try await store.family(id: "fam")
            try expect(revoked?.revokedReason, "reuse", "revocation reason")
            try expect(revoked?.revokedAt, now.addingTimeInterval(1), "revoked at the caller's time")
            try expect(try await store.rotate(presentedHash: "t2", owner: .firstParty, successor: record("t4"), at: now, graceWindow: 0), .revoked,
                       "the successor died with its family")
        },
        ConformanceCheck("session.graceRetryReplacesTheUnseenSuccessor") { factory in
            let (store, _) = try await storeWithSession(factory)
            _ = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2"), at: now, graceWindow: 10)
            let retry = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2b"), at: now.addingTimeInterval(5), graceWindow: 10)
            guard case .rotated(_, graceRetry: true) = retry else { try expect(false, "a grace retry, saw \(retry)"); return }
            try expect(try await store.rotate(presentedHash: "t2", owner: .firstParty, successor: record("x"), at: now.addingTimeInterval(6), graceWindow: 0),
                       .reused(familyID: "fam"), "the successor of the lost response is dead")
        },
        ConformanceCheck("session.retryAfterTheGraceWindowIsReuse") { factory in
            let (store, _) = try await storeWithSession(factory)
            _ = try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t2"), at: now, graceWindow: 10)
            try expect(try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("t3"), at: now.addingTimeInterval(11), graceWindow: 10),
                       .reused(familyID: "fam"))
        },
        ConformanceCheck("session.expiredUnknownAndRevokedTokensChangeNothing") { factory in
            let (store, _) = try await storeWithSession(factory, firstTokenTTL: 10)
            try expect(try await store.rotate(presentedHash: "nope", owner: .firstParty, successor: record("a"), at: now, graceWindow: 0), .unknown, "unknown")
            try expect(try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("b"), at: now.addingTimeInterval(11), graceWindow: 0),
                       .expired, "expired")
            try expect(try await store.family(id: "fam")?.revokedAt, nil, "an expired token revokes nothing")
            try expect(try await store.family(ofTokenHash: "b"), nil, "no successor stored")
            _ = try await store.revokeFamily(id: "fam", reason: "logout", at: now)
            try expect(try await store.rotate(presentedHash: "t1", owner: .firstParty, successor: record("c"), at: now, graceWindow: 0), .revoked, "revoked")
        },
        ConformanceCheck("session.aFamilyRotatesOnlyForItsOwner") { factory in
            let (store, user) = try await storeWithClient(factory)
            try await store.createFamily(TokenFamily(id: "oauth", userID: user.id, clientID: "app", scope: "s", createdAt: now), firstToken: record("o1"))
            try await store.createFamily(TokenFamily(id: "rest", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("r1"))
            try expect(try await store.rotate(presentedHash: "o1", owner: .firstParty, successor: record("x"), at: now, graceWindow: 0), .wrongOwner, "REST owner, client family")
            try expect(try await store.rotate(presentedHash: "o1", owner: .client("other"), successor: record("y"), at: now, graceWindow: 0), .wrongOwner, "other client")
            try expect(try await store.rotate(presentedHash: "r1", owner: .client("app"), successor: record("z"), at: now, graceWindow: 0), .wrongOwner, "client, REST family")
            let own = try await store.rotate(presentedHash: "o1", owner: .client("app"), successor: record("o2"), at: now, graceWindow: 0)
            guard case .rotated(let family, false) = own else { try expect(false, "the owner rotates, saw \(own)"); return }
            try expect(family.clientID, "app")
            try expect(try await store.rotate(presentedHash: "r1", owner: .firstParty, successor: record("r2"), at: now, graceWindow: 0).isRotation, "the REST owner rotates")
        },
        ConformanceCheck("session.revokeFamilyOnce") { factory in
            let (store, _) = try await storeWithSession(factory)
            try expect(try await store.revokeFamily(id: "fam", reason: "logout", at: now), true, "first revocation")
            try expect(try await store.revokeFamily(id: "fam", reason: "again", at: now.addingTimeInterval(5)), false, "second revocation")
            try expect(try await store.family(id: "fam")?.revokedReason, "logout", "the first reason stands")
            try expect(try await store.revokeFamily(id: "nope", reason: "logout", at: now), false, "unknown family")
        },
        ConformanceCheck("session.endSessionsSparesTheCurrentFamilyAndDeletesBrowserSessions") { factory in
            let (store, user) = try await storeWithClient(factory)
            for id in ["a", "b", "c"] {
                try await store.createFamily(TokenFamily(id: id, userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("h-\(id)"))
            }
            let bob = makeUser("bob")
            try await store.createUser(bob)
            try await store.createFamily(TokenFamily(id: "bobs", userID: bob.id, clientID: nil, scope: "s", createdAt: now), firstToken: nil)
            for cookie in ["k1", "k2"] {
                try await store.createBrowserSession(BrowserSession(idHash: cookie, userID: user.id, authTime: now, amr: ["pwd"], expiresAt: now.addingTimeInterval(3600)))
            }
            try await store.createBrowserSession(BrowserSession(idHash: "kb", userID: bob.id, authTime: now, amr: ["pwd"], expiresAt: now.addingTimeInterval(3600)))
            _ = try await store.revokeFamily(id: "c", reason: "logout", at: now)
            try expect(try await store.endSessions(ofUserID: user.id, exceptFamily: "b", reason: "password_change", at: now),
                       EndedSessions(families: 1, browserSessions: 2), "ended")
            try expect(try await store.family(id: "a")?.revokedReason, "password_change", "another session")
            try expect(try await store.family(id: "b")?.revokedAt, nil, "the current session")
            try expect(try await store.family(id: "c")?.revokedReason, "logout", "an already revoked session keeps its reason")
            try expect(try await store.browserSession(idHash: "k1", at: now), nil, "browser session")
            try expect(try await store.family(id: "bobs")?.revokedAt, nil, "another user's session")
            try expect(try await store.browserSession(idHash: "kb", at: now) != nil, "another user's browser session")
            try expect(try await store.endSessions(ofUserID: user.id, exceptFamily: nil, reason: "disabled", at: now),
                       EndedSessions(families: 1, browserSessions: 0), "without exception")
        },
    ]

    static let accessTokenChecks: [ConformanceCheck] = [
        ConformanceCheck("accessToken.revocationsAreRemembered", store: { store in
            try expect(try await store.isAccessTokenRevoked(jti: "j1"), false, "before")
            try await store.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
            try await store.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
            try expect(try await store.isAccessTokenRevoked(jti: "j1"), true, "revoked (twice, idempotent)")
            try expect(try await store.isAccessTokenRevoked(jti: "j2"), false, "another jti")
        }),
        ConformanceCheck("accessToken.livenessSeesEveryRevocation") { factory in
            let (store, user) = try await storeWithSession(factory)
            try await store.createClient(makeClient("svc"))
            func live(_ jti: String = "j1", session: String? = "fam", subject: String? = nil, client: String? = nil, requireUser: Bool = true) async throws -> Bool {
                try await store.isAccessTokenLive(jti: jti, sessionID: session, subject: subject ?? user.id, clientID: client, requireUser: requireUser)
            }
            try expect(try await live(), true, "a live token")
            try expect(try await live(session: "other"), false, "unknown session")
            try expect(try await live(subject: "someone-else"), false, "session of another user")
            try expect(try await live(session: nil, subject: "svc", client: "svc", requireUser: false), true, "a client token needs no user")
            try expect(try await live(session: nil, subject: "svc"), false, "a missing user")
            try expect(try await live(session: nil, subject: "gone", client: "gone", requireUser: false), false, "a client that does not exist")
            try await store.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
            try expect(try await live(), false, "jti revoked")
            try expect(try await live("j2"), true, "another jti")
            _ = try await store.setDisabled(userID: user.id, disabled: true, at: now)
            try expect(try await live("j2"), false, "user disabled")
            _ = try await store.setDisabled(userID: user.id, disabled: false, at: now)
            try expect(try await live("j2"), true, "user enabled again")
            _ = try await store.revokeFamily(id: "fam", reason: "logout", at: now)
            try expect(try await live("j2"), false, "session revoked")
        },
        ConformanceCheck("accessToken.rolesIfLiveReadsBothOrNothing") { factory in
            let (store, user) = try await storeWithSession(factory)
            _ = try await store.grantRole("viewer", toUserID: user.id, at: now)
            _ = try await store.grantRole("admin", toUserID: user.id, at: now)
            func roles(_ jti: String = "j1", of userID: String?) async throws -> [String]? {
                try await store.rolesIfAccessTokenLive(jti: jti, sessionID: "fam", subject: user.id, clientID: nil, requireUser: true, rolesOfUserID: userID)
            }
            try expect(try await roles(of: user.id), ["admin", "viewer"], "live: the user's roles, sorted")
            try expect(try await roles(of: nil), [], "live, no roles asked for")
            try expect(try await roles(of: "nobody"), [], "live, a user without grants")
            try await store.revokeAccessToken(jti: "j1", expiresAt: now.addingTimeInterval(900), at: now)
            try expect(try await roles(of: user.id), nil, "revoked: nothing")
            try expect(try await roles("j2", of: user.id), ["admin", "viewer"], "another jti")
            _ = try await store.setDisabled(userID: user.id, disabled: true, at: now)
            try expect(try await roles("j2", of: user.id), nil, "user disabled: nothing")
        },
        ConformanceCheck("accessToken.concurrentLivenessReadsEachGetTheirOwnAnswer") { factory in
            // A backend may answer concurrent reads together (PostgreSQL batches them): each read
            // must still get the answer to its own question, whatever else is asked beside it.
            let (store, user) = try await storeWithSession(factory)
            try await store.createClient(makeClient("svc"))
            try await store.revokeAccessToken(jti: "revoked", expiresAt: now.addingTimeInterval(900), at: now)
            struct Question: Sendable { let jti: String, session: String?, subject: String, client: String?, requireUser: Bool, live: Bool }
            let kinds = [
                Question(jti: "ok", session: "fam", subject: user.id, client: nil, requireUser: true, live: true),
                Question(jti: "revoked", session: "fam", subject: user.id, client: nil, requireUser: true, live: false),
                Question(jti: "ok", session: "other", subject: user.id, client: nil, requireUser: true, live: false),
                Question(jti: "ok", session: "fam", subject: "someone-else", client: nil, requireUser: true, live: false),
                Question(jti: "ok", session: nil, subject: "svc", client: "svc", requireUser: false, live: true),
                Question(jti: "ok", session: nil, subject: "gone", client: "gone", requireUser: false, live: false),
                Question(jti: "ok", session: nil, subject: user.id, client: "svc", requireUser: true, live: true),
                Question(jti: "ok", session: nil, subject: "svc", client: nil, requireUser: true, live: false),
            ]
            let questions = (0..<96).map { kinds[($0 * 5) % kinds.count] }
            _ = try await store.grantRole("viewer", toUserID: user.id, at: now)
            // Every third read asks for the user's roles too (the token form of /v1/authorize).
            let answers = try await concurrently(questions.count) { index in
                let question = questions[index]
                if index % 3 == 0 {
                    let roles = try await store.rolesIfAccessTokenLive(
                        jti: question.jti, sessionID: question.session, subject: question.subject, clientID: question.client,
                        requireUser: question.requireUser, rolesOfUserID: user.id)
                    return (index, roles == (question.live ? ["viewer"] : nil))
                }
                return (index, try await store.isAccessTokenLive(jti: question.jti, sessionID: question.session, subject: question.subject,
                                                                 clientID: question.client, requireUser: question.requireUser) == question.live)
            }
            let wrong = answers.filter { _, right in !right }.map(\.0).sorted()
            try expect(wrong, [], "reads answered with another read's answer")
        },
    ]
}
