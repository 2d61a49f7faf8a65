import Foundation
import PortcullisCore
import PortcullisCrypto

/// Concurrent calls a store must serialise: each is a security property (a stolen token used
/// twice, a code redeemed twice, a TOTP code replayed, more password guesses than the threshold).
///
/// Every race runs on two replicas over one database (`StoreFactory.makeReplicas`): call `index`
/// goes to replica `index % 2`, so the calls meet in the database, not in one process's pool.
extension StoreConformance {
    /// How many calls race in each check.
    static let racers = 24

    static let raceChecks: [ConformanceCheck] = [
        ConformanceCheck("race.concurrentRotationsOfOneTokenLetExactlyOneWin") { factory in
            let (replicas, _) = try await replicasWithSession(factory)
            let outcomes = try await concurrently(racers) { index in
                try await replicas[index % 2].rotate(presentedHash: "t1", owner: .firstParty, successor: record("next-\(index)"), at: now, graceWindow: 0)
            }
            try expect(outcomes.filter(\.isRotation).count, 1, "rotations won (\(tally(outcomes)))")
            try expect(outcomes.allSatisfy { $0.isRotation || $0 == .reused(familyID: "fam") || $0 == .revoked },
                       "every loser sees reuse or a revoked family: \(tally(outcomes))")
            try expect(try await replicas[0].family(id: "fam")?.revokedReason, "reuse", "the reuse revoked the family")
        },
        ConformanceCheck("race.concurrentRetriesInsideTheGraceWindowLeaveOneLiveSuccessor") { factory in
            let (replicas, _) = try await replicasWithSession(factory)
            let outcomes = try await concurrently(racers) { index in
                try await replicas[index % 2].rotate(presentedHash: "t1", owner: .firstParty, successor: record("next-\(index)"), at: now, graceWindow: 30)
            }
            try expect(outcomes.filter { $0 == .rotated(TokenFamily(id: "fam", userID: "id-alice", clientID: nil, scope: "openid", createdAt: now), graceRetry: false) }.count,
                       1, "first rotations (\(tally(outcomes)))")
            try expect(outcomes.allSatisfy(\.isRotation), "every retry inside the window rotates: \(tally(outcomes))")
            var live = 0
            for index in 0..<racers where try await replicas[index % 2].liveFamily(ofRefreshTokenHash: "next-\(index)", at: now) != nil { live += 1 }
            try expect(live, 1, "live successors")
        },
        ConformanceCheck("race.concurrentCodeRedemptionsLetExactlyOneRedeem") { factory in
            let (replicas, user) = try await replicasWithClient(factory)
            try await replicas[0].createAuthorizationCode(makeCode("code", user: user))
            let outcomes = try await concurrently(racers) { index in
                try await replicas[index % 2].redeemAuthorizationCode(hash: "code", familyID: "fam-\(index)", accessTokenID: "jti-\(index)", at: now) { _ in nil }
            }
            try expect(outcomes.filter(\.isRedeemed).count, 1, "redemptions (\(tally(outcomes)))")
            guard case .redeemed(let winner)? = outcomes.first(where: \.isRedeemed) else { return }
            try expect(outcomes.allSatisfy { $0 == .redeemed(winner) || $0 == .replayed(winner) }, "every loser sees the winner's redemption as replayed")
            try expect(try await replicas[1].wasAuthorizationCodeReplayed(hash: "code"), true, "replays recorded")
        },
        ConformanceCheck("race.concurrentConsentsMergeEveryScope") { factory in
            let (replicas, user) = try await replicasWithClient(factory)
            _ = try await concurrently(racers) { index in
                try await replicas[index % 2].recordConsent(userID: user.id, clientID: "app", scopes: ["s\(index)"], at: now)
            }
            let scopes = try await replicas[0].consentedScopes(userID: user.id, clientID: "app")
            try expect(scopes, Set((0..<racers).map { "s\($0)" }), "merged scopes")
        },
        ConformanceCheck("race.theSameTOTPStepIsAcceptedOnce") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            try await replicas[1].saveTOTPEnrolment(TOTPCredential(userID: user.id, sealedSecret: [1], parameters: .standard, createdAt: now))
            _ = try await replicas[0].confirmTOTP(userID: user.id, at: now, step: 100, recoveryCodeHashes: ["r"])
            let accepted = try await concurrently(racers) { index in try await replicas[index % 2].advanceTOTPStep(userID: user.id, to: 101) }
            try expect(accepted.filter { $0 }.count, 1, "acceptances of step 101")
            let recovery = try await concurrently(racers) { index in
                try await replicas[index % 2].consumeRecoveryCode(userID: user.id, codeHash: "r", at: now)
            }
            try expect(recovery.filter { $0 }.count, 1, "uses of one recovery code")
        },
        ConformanceCheck("race.anMFAChallengeIsConsumedOnce") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            try await replicas[1].createMFAChallenge(MFAChallenge(tokenHash: "c", userID: user.id, expiresAt: now.addingTimeInterval(300)))
            let consumed = try await concurrently(racers) { index in try await replicas[index % 2].consumeMFAChallenge(tokenHash: "c") }
            try expect(consumed.filter { $0 }.count, 1, "consumptions")
        },
        ConformanceCheck("race.concurrentMFAFailuresAreCountedExactly") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            try await replicas[1].createMFAChallenge(MFAChallenge(tokenHash: "c", userID: user.id, expiresAt: now.addingTimeInterval(300)))
            let counts = try await concurrently(racers) { index in
                try await replicas[index % 2].recordMFAChallengeFailure(tokenHash: "c", maxFailures: racers + 1)
            }
            try expect(counts.sorted(), Array(1...racers), "each failure saw its own count")
            try expect(try await replicas[0].mfaChallenge(tokenHash: "c")?.failures, racers, "failures stored")
        },
        ConformanceCheck("race.concurrentReservationsAreCountedExactly") { factory in
            let replicas = try await factory.makeReplicas(2)
            let reservations = try await concurrently(racers) { index in
                try await replicas[index % 2].reserveAttempt(key: "carol", at: now, resetAfter: 900) { _ in nil }
            }
            try expect(reservations.filter(\.isReserved).count, racers, "reserved without a lockout")
            try expect(try await replicas[0].lockoutState(key: "carol").failures, racers, "failures counted")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<racers { group.addTask { try await replicas[index % 2].releaseAttempt(key: "carol", threshold: 5) } }
                try await group.waitForAll()
            }
            try expect(try await replicas[1].lockoutState(key: "carol").failures, 0, "every release counted")
        },
        ConformanceCheck("race.concurrentReservationsRunAtMostTheThreshold") { factory in
            let replicas = try await factory.makeReplicas(2)
            let policy = LockoutPolicy(threshold: 10)
            let reservations = try await concurrently(racers) { index in
                try await replicas[index % 2].reserveAttempt(key: "dave", at: now, resetAfter: 900) { policy.lockout(afterFailures: $0) }
            }
            try expect(reservations.filter(\.isReserved).count, 10, "attempts that ran (\(tally(reservations)))")
            try expect(try await replicas[0].lockoutState(key: "dave"), AccountLockoutState(failures: 10, lockedUntil: now.addingTimeInterval(60)), "state")
        },
        ConformanceCheck("race.concurrentAddressFailuresAreCountedExactly") { factory in
            let replicas = try await factory.makeReplicas(2)
            let rule = AddressThrottleRule(limit: 1000)
            let states = try await concurrently(racers) { index in
                try await replicas[index % 2].recordAddressFailure(key: "198.51.100.7", at: now, rule: rule)
            }
            try expect(states.map(\.failures).sorted(), Array(1...racers), "each failure saw its own count")
            let last = try await replicas[0].recordAddressFailure(key: "198.51.100.7", at: now, rule: rule)
            try expect(last.failures, racers + 1, "failures stored")
        },
        ConformanceCheck("race.concurrentAddressFailuresTripTheLockAtExactlyTheLimit") { factory in
            let replicas = try await factory.makeReplicas(2)
            let rule = AddressThrottleRule(limit: 10)
            let states = try await concurrently(racers) { index in
                try await replicas[index % 2].recordAddressFailure(key: "2001:db8:1:2::/64", at: now, rule: rule)
            }
            // Failure n (1-based) of the burst is trip n / 10 with n % 10 failures left over.
            try expect(states.map { $0.trips * rule.limit + $0.failures }.sorted(), Array(1...racers), "failures counted, trips included")
            try expect(states.filter { $0.failures == 0 }.map(\.trips).sorted(), [1, 2], "the 10th and the 20th failure tripped, no other")
            try expect(states.filter { $0.trips == 0 }.count, 9, "failures before the first trip")
            try expect(try await replicas[1].addressLockedUntil(key: "2001:db8:1:2::/64"), now.addingTimeInterval(120), "the second trip's lock")
        },
        ConformanceCheck("race.concurrentAuditAppendsKeepTheChainIntact") { factory in
            let replicas = try await factory.makeReplicas(2)
            _ = try await concurrently(racers * 2) { index in
                try await replicas[index % 2].appendAudit(AuditEvent(at: now.addingTimeInterval(Double(index)), action: "a\(index)", actor: "cli"))
            }
            let entries = try await replicas[0].auditEntries()
            try expect(entries.count, racers * 2, "entries")
            try expect(Set(entries.map(\.event.action)).count, racers * 2, "every event once")
            if let first = entries.first?.id {
                try expect(entries.map(\.id), Array(first..<(first + Int64(entries.count))), "contiguous ids")
            }
            try expect(AuditChain.verify(entries), .intact(events: racers * 2, head: entries.last?.chainHash ?? ""), "chain")
        },
        ConformanceCheck("race.concurrentGrantsOfOneRoleSucceedOnce") { factory in
            let replicas = try await factory.makeReplicas(2)
            let user = makeUser()
            try await replicas[0].createUser(user)
            let granted = try await concurrently(racers) { index in try await replicas[index % 2].grantRole("admin", toUserID: user.id, at: now) }
            try expect(granted.filter { $0 }.count, 1, "grants")
        },
    ]
}
