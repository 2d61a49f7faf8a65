import Foundation
import PortcullisCore

extension StoreConformance {
    static let passkeyChecks: [ConformanceCheck] = [
        ConformanceCheck("passkey.everyFieldRoundTripsAndTheListIsOldestFirst", store: { store in
            let (user, bob) = try await createAliceAndBob(in: store)
            try expect(try await store.passkeys(userID: user.id), [], "none yet")
            try expect(try await store.passkeyCount(userID: user.id), 0, "none counted")
            // The newer one first; every field at an edge: the longest credential id, the largest
            // count, both flags, no transports, both optional times.
            var newer = makePasskey("pk-newer", user: user, credential: 2, createdAt: now.addingTimeInterval(10))
            newer.credentialID = (0..<1023).map { UInt8(truncatingIfNeeded: $0 * 7) }
            newer.publicKey = Array(repeating: 0, count: 300) + [1]
            newer.algorithm = -257
            newer.signCount = .max
            newer.transports = []
            newer.backupEligible = false
            newer.backedUp = true
            newer.lastUsedAt = now.addingTimeInterval(20.25)
            newer.flaggedAt = now.addingTimeInterval(30.5)
            newer.aaguid = Array(0..<16)
            newer.attestationFormat = "packed"
            newer.name = "Ä phone 🔑"
            let older = makePasskey("pk-older", user: user, credential: 1)
            try await store.addPasskey(newer)
            try await store.addPasskey(older)
            try await store.addPasskey(makePasskey("pk-bob", user: bob, credential: 3))
            try expect(try await store.passkeys(userID: user.id), [older, newer], "the user's passkeys, oldest first")
            try expect(try await store.passkey(credentialID: newer.credentialID), newer, "every field, found by credential id")
            try expect(try await store.passkey(credentialID: older.credentialID), older, "the other")
            try expect(try await store.passkey(credentialID: Array(newer.credentialID.dropLast()) + [0]), nil, "an unknown credential id")
            try expect(try await store.passkeyCount(userID: user.id), 2, "counted")
            try expect(try await store.passkeyCount(userID: bob.id), 1, "bob's own")
            try expect(try await store.passkeyCount(userID: "nobody"), 0, "nobody's")
        }),
        ConformanceCheck("passkey.aRegisteredCredentialIDIsRefusedForEveryUser", store: { store in
            let (user, bob) = try await createAliceAndBob(in: store)
            let first = makePasskey("pk-1", user: user, credential: 1)
            try await store.addPasskey(first)
            var again = makePasskey("pk-2", user: user, credential: 1)
            again.name = "again"
            try await expectThrows(PortcullisError.passkeyAlreadyRegistered, "the same credential id for its owner") {
                try await store.addPasskey(again)
            }
            var stolen = makePasskey("pk-3", user: bob, credential: 1)
            stolen.publicKey = [9, 9, 9]
            try await expectThrows(PortcullisError.passkeyAlreadyRegistered, "the same credential id for another user") {
                try await store.addPasskey(stolen)
            }
            try expect(try await store.passkeys(userID: user.id), [first], "the owner's passkeys unchanged")
            try expect(try await store.passkeys(userID: bob.id), [], "nothing stored for bob")
            try expect(try await store.passkey(credentialID: first.credentialID), first, "the credential id still finds the first")
        }),
        ConformanceCheck("passkey.onlyTheOwnerRenamesOrDeletes", store: { store in
            let (user, bob) = try await createAliceAndBob(in: store)
            let passkey = makePasskey("pk-1", user: user, credential: 1)
            try await store.addPasskey(passkey)
            try expect(try await store.renamePasskey(id: passkey.id, userID: bob.id, name: "mine now"), false, "another user's rename")
            try expect(try await store.deletePasskey(id: passkey.id, userID: bob.id), false, "another user's delete")
            try expect(try await store.passkeys(userID: user.id), [passkey], "unchanged by bob")
            try expect(try await store.renamePasskey(id: passkey.id, userID: user.id, name: "Laptop"), true, "the owner's rename")
            try expect(try await store.passkeys(userID: user.id).map(\.name), ["Laptop"], "renamed")
            try expect(try await store.renamePasskey(id: "pk-unknown", userID: user.id, name: "x"), false, "an unknown passkey")
            try expect(try await store.deletePasskey(id: passkey.id, userID: user.id), true, "the owner's delete")
            try expect(try await store.passkey(credentialID: passkey.credentialID), nil, "gone")
            try expect(try await store.deletePasskey(id: passkey.id, userID: user.id), false, "delete again")
            try await store.addPasskey(makePasskey("pk-2", user: bob, credential: 1))
            try expect(try await store.passkey(credentialID: passkey.credentialID)?.userID, bob.id, "a removed credential id can be registered again")
        }),
        ConformanceCheck("passkey.theSignCountAdvancesOnlyFromTheStoredCountAndNeverWhenFlagged", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            let passkey = makePasskey("pk-1", user: user, credential: 1)
            try await store.addPasskey(passkey)
            let used = now.addingTimeInterval(60)
            try expect(try await store.advancePasskeySignCount(id: passkey.id, from: 4, to: 6, at: used), false, "from a count that is not stored")
            try expect(try await store.passkeys(userID: user.id), [passkey], "unchanged")
            try expect(try await store.advancePasskeySignCount(id: passkey.id, from: 5, to: 6, at: used), true, "from the stored count")
            try expect(try await store.advancePasskeySignCount(id: passkey.id, from: 5, to: 7, at: used), false, "from the same count again")
            var advanced = passkey
            advanced.signCount = 6
            advanced.lastUsedAt = used
            try expect(try await store.passkey(credentialID: passkey.credentialID), advanced, "count and last use stored")
            try expect(try await store.advancePasskeySignCount(id: passkey.id, from: 6, to: .max, at: used), true, "up to the largest count")
            try expect(try await store.passkey(credentialID: passkey.credentialID)?.signCount, .max, "the largest count stored")
            try expect(try await store.advancePasskeySignCount(id: "pk-unknown", from: 0, to: 1, at: used), false, "an unknown passkey")

            let flagged = now.addingTimeInterval(120)
            try expect(try await store.flagPasskey(id: passkey.id, at: flagged), true, "flag")
            try expect(try await store.flagPasskey(id: passkey.id, at: flagged.addingTimeInterval(1)), false, "flag again")
            try expect(try await store.passkey(credentialID: passkey.credentialID)?.flaggedAt, flagged, "the first flag is kept")
            try expect(try await store.advancePasskeySignCount(id: passkey.id, from: .max, to: .max, at: flagged), false, "a flagged passkey")
            try expect(try await store.passkey(credentialID: passkey.credentialID)?.lastUsedAt, used, "a flagged passkey's last use unchanged")
            try expect(try await store.flagPasskey(id: "pk-unknown", at: flagged), false, "flag an unknown passkey")
        }),
        ConformanceCheck("passkey.eachUserHasOneUniqueHandle", store: { store in
            let (user, bob) = try await createAliceAndBob(in: store)
            let first = Array(repeating: UInt8(0xa1), count: 64)
            let second = Array(repeating: UInt8(0xb2), count: 64)
            try expect(try await store.webAuthnUserHandle(userID: user.id), nil, "none yet")
            try expect(try await store.userID(webAuthnUserHandle: first), nil, "nobody's handle")
            try expect(try await store.ensureWebAuthnUserHandle(userID: user.id, candidate: first), first, "the candidate is stored")
            try expect(try await store.ensureWebAuthnUserHandle(userID: user.id, candidate: second), first, "a later candidate is ignored")
            try expect(try await store.webAuthnUserHandle(userID: user.id), first, "stored")
            try expect(try await store.userID(webAuthnUserHandle: first), user.id, "the handle names its user")
            try expect(try await store.userID(webAuthnUserHandle: second), nil, "the ignored candidate names nobody")
            try await expectThrows(PortcullisError.webAuthnUserHandleTaken, "another user's handle as a candidate") {
                _ = try await store.ensureWebAuthnUserHandle(userID: bob.id, candidate: first)
            }
            try expect(try await store.webAuthnUserHandle(userID: bob.id), nil, "nothing stored for bob")
            try expect(try await store.ensureWebAuthnUserHandle(userID: bob.id, candidate: second), second, "bob's own")
            try expect(try await store.userID(webAuthnUserHandle: second), bob.id, "bob's handle")
        }),
        ConformanceCheck("passkey.challengesAreReplacedByKeyAndConsumedOnce", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            let registration = WebAuthnChallenge(key: "k1", purpose: "register", userID: user.id, challenge: Array(repeating: 7, count: 32),
                                                 expiresAt: now.addingTimeInterval(300))
            try expect(try await store.consumeWebAuthnChallenge(key: "k1"), nil, "none yet")
            try await store.saveWebAuthnChallenge(registration)
            let login = WebAuthnChallenge(key: "k1", purpose: "login", userID: nil, challenge: Array(repeating: 8, count: 32),
                                          expiresAt: now.addingTimeInterval(600))
            try await store.saveWebAuthnChallenge(login)
            try expect(try await store.consumeWebAuthnChallenge(key: "k1"), login, "the replacement, every field")
            try expect(try await store.consumeWebAuthnChallenge(key: "k1"), nil, "consumed once")
            let expired = WebAuthnChallenge(key: "k2", purpose: "mfa", userID: user.id, challenge: [1], expiresAt: now.addingTimeInterval(-1))
            try await store.saveWebAuthnChallenge(expired)
            try expect(try await store.consumeWebAuthnChallenge(key: "k2"), expired, "an expired challenge is returned; the caller refuses it")
        }),
        ConformanceCheck("passkey.deletingAUserRemovesTheirPasskeysHandleAndChallenges", store: { store in
            let (user, bob) = try await createAliceAndBob(in: store)
            let alicesKey = makePasskey("pk-a", user: user, credential: 1)
            let bobsKey = makePasskey("pk-b", user: bob, credential: 2)
            try await store.addPasskey(alicesKey)
            try await store.addPasskey(bobsKey)
            _ = try await store.ensureWebAuthnUserHandle(userID: user.id, candidate: [1, 1])
            _ = try await store.ensureWebAuthnUserHandle(userID: bob.id, candidate: [2, 2])
            let later = now.addingTimeInterval(300)
            try await store.saveWebAuthnChallenge(WebAuthnChallenge(key: "a", purpose: "register", userID: user.id, challenge: [1], expiresAt: later))
            let bobs = WebAuthnChallenge(key: "b", purpose: "mfa", userID: bob.id, challenge: [2], expiresAt: later)
            let anonymous = WebAuthnChallenge(key: "n", purpose: "login", userID: nil, challenge: [3], expiresAt: later)
            try await store.saveWebAuthnChallenge(bobs)
            try await store.saveWebAuthnChallenge(anonymous)
            try expect(try await store.deleteUser(id: user.id), true, "delete alice")
            try expect(try await store.passkeys(userID: user.id), [], "her passkeys gone")
            try expect(try await store.passkey(credentialID: alicesKey.credentialID), nil, "her credential id unknown")
            try expect(try await store.webAuthnUserHandle(userID: user.id), nil, "her handle gone")
            try expect(try await store.userID(webAuthnUserHandle: [1, 1]), nil, "her handle names nobody")
            try expect(try await store.consumeWebAuthnChallenge(key: "a"), nil, "her challenge gone")
            try expect(try await store.passkeys(userID: bob.id), [bobsKey], "bob's passkey stays")
            try expect(try await store.userID(webAuthnUserHandle: [2, 2]), bob.id, "bob's handle stays")
            try expect(try await store.consumeWebAuthnChallenge(key: "b"), bobs, "bob's challenge stays")
            try expect(try await store.consumeWebAuthnChallenge(key: "n"), anonymous, "a challenge of nobody stays")
        }),
    ]

    /// Races on two replicas, as in `raceChecks`: call `index` goes to replica `index % 2`.
    static let passkeyRaceChecks: [ConformanceCheck] = [
        ConformanceCheck("race.concurrentSignCountAdvancesFromOneCountLetExactlyOneWin") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            let passkey = makePasskey("pk-1", user: user, credential: 1)
            try await replicas[1].addPasskey(passkey)
            let outcomes = try await concurrently(racers) { index in
                (index, try await replicas[index % 2].advancePasskeySignCount(id: passkey.id, from: 5, to: UInt32(6 + index), at: now))
            }
            let winners = outcomes.filter { $0.1 }.map { $0.0 }
            try expect(winners.count, 1, "advances from count 5 that won")
            try expect(try await replicas[0].passkey(credentialID: passkey.credentialID)?.signCount, winners.first.map { UInt32(6 + $0) },
                       "the winner's count is stored")
        },
        ConformanceCheck("race.concurrentRegistrationsOfOneCredentialIDStoreOne") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            let outcomes = try await concurrently(racers) { index in
                do {
                    try await replicas[index % 2].addPasskey(makePasskey("pk-\(index)", user: user, credential: 1))
                    return "added"
                } catch let error as PortcullisError where error == .passkeyAlreadyRegistered {
                    return "conflict"
                }
            }
            try expect(outcomes.filter { $0 == "added" }.count, 1, "registrations stored (\(tally(outcomes)))")
            try expect(try await replicas[1].passkeyCount(userID: user.id), 1, "passkeys stored")
        },
        ConformanceCheck("race.aWebAuthnChallengeIsConsumedOnce") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            let challenge = WebAuthnChallenge(key: "k", purpose: "login", userID: user.id, challenge: [1, 2, 3], expiresAt: now.addingTimeInterval(300))
            try await replicas[1].saveWebAuthnChallenge(challenge)
            let consumed = try await concurrently(racers) { index in try await replicas[index % 2].consumeWebAuthnChallenge(key: "k") }
            try expect(consumed.compactMap { $0 }, [challenge], "consumptions")
        },
        ConformanceCheck("race.concurrentUserHandleEnsuresAgreeOnOneHandle") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            let handles = try await concurrently(racers) { index in
                try await replicas[index % 2].ensureWebAuthnUserHandle(userID: user.id, candidate: Array(repeating: UInt8(index), count: 64))
            }
            let stored = try await replicas[1].webAuthnUserHandle(userID: user.id)
            try expect(Set(handles).count, 1, "distinct handles returned")
            try expect(stored, handles.first, "every caller got the stored handle")
        },
    ]
}
