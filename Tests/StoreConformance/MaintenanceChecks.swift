import Foundation
import PortcullisCore

extension StoreConformance {
    /// A sweep that finds `count` revocations past their token's expiry (besides anything else).
    static let sweepCutoff = ExpiryCutoff(expiredBefore: now, tokenlessFamiliesStartedBefore: now, keepDecisions: 100)

    static func revokeExpired(_ count: Int, in store: any PortcullisStore, prefix: String = "old") async throws {
        for index in 0..<count {
            try await store.revokeAccessToken(jti: "\(prefix)-\(index)", expiresAt: now.addingTimeInterval(-1), at: now.addingTimeInterval(-2))
        }
    }

    static func decision(_ index: Int) -> DecisionRecord {
        DecisionRecord(at: now, subject: "s", grantedRoles: [], action: "a", resource: "r\(index)", allowed: true, rule: nil, policyVersion: "v")
    }

    static let maintenanceChecks: [ConformanceCheck] = [
        ConformanceCheck("maintenance.sweepsWhileAnotherReplicaHoldsTheLockAreSkippedNotQueued") { factory in
            let replicas = try await factory.makeReplicas(2)
            try await revokeExpired(3, in: replicas[1])
            // Replica 0 is in the middle of a sweep; every sweep meanwhile, on either replica's other
            // connections, answers at once.
            let during = try await factory.whileHoldingMaintenanceLock(replicas[0]) {
                try await concurrently(4) { index in try await replicas[index % 2].removeExpired(sweepCutoff) }
            }
            var three = RemovedRows()
            three.revokedAccessTokens = 3
            if factory.replicasTakeTurnsAtMaintenance {
                try expect(tally(during), "skipped×4", "sweeps while replica 0 holds the lock")
                try expect(try await replicas[1].isAccessTokenRevoked(jti: "old-0"), true, "a skipped sweep removes nothing")
                try expect(try await replicas[1].removeExpired(sweepCutoff), .swept(three), "the first sweep once the lock is free")
            } else {
                // SQLite: one writer at a time already, so every sweep runs (one of them finds the rows).
                try expect(during.allSatisfy { $0 != .skipped }, "every sweep runs where replicas do not take turns: \(tally(during))")
                try expect(during.map(\.removed.revokedAccessTokens).reduce(0, +), 3, "rows removed across the sweeps")
            }
            try expect(try await replicas[0].removeExpired(sweepCutoff), .swept(RemovedRows()), "the holder's lock ended with its transaction")
        },
        ConformanceCheck("maintenance.concurrentSweepsOfTwoReplicasRemoveEachRowOnceAndNeverFail") { factory in
            let replicas = try await factory.makeReplicas(2)
            try await revokeExpired(40, in: replicas[0])
            let outcomes = try await concurrently(8) { index in try await replicas[index % 2].removeExpired(sweepCutoff) }
            let swept = outcomes.filter { $0 != .skipped }
            try expect(!swept.isEmpty, "at least one sweep ran: \(tally(outcomes))")
            if !factory.replicasTakeTurnsAtMaintenance {
                try expect(swept.count, outcomes.count, "every sweep runs where replicas do not take turns")
            }
            try expect(swept.map(\.removed.revokedAccessTokens).reduce(0, +), 40, "each expired row removed by exactly one sweep")
            try expect(try await replicas[1].isAccessTokenRevoked(jti: "old-39"), false, "gone")
        },
        ConformanceCheck("maintenance.aDecisionTrimIsLeftToTheNextAppendWhileAnotherReplicaHoldsTheLock") { factory in
            let replicas = try await factory.makeReplicas(2)
            try await factory.whileHoldingMaintenanceLock(replicas[0]) {
                try await replicas[1].appendDecisions((0..<8).map(decision), capacity: 5)
            }
            let during = try await replicas[1].recentDecisions(limit: 20).count
            try expect(during, factory.replicasTakeTurnsAtMaintenance ? 8 : 5, "rows after an append while replica 0 held the lock")
            try await replicas[0].appendDecisions([decision(8)], capacity: 5)
            try expect(try await replicas[1].recentDecisions(limit: 20).map(\.resource), (4...8).reversed().map { "r\($0)" },
                       "the next append trims to capacity")
        },
    ]

    static let schemaChecks: [ConformanceCheck] = [
        ConformanceCheck("schema.aFreshlyMigratedStoreIsCurrent", store: { store in
            try expect(try await store.schemaStatus(), .current, "schema status")
        }),
    ]
}
