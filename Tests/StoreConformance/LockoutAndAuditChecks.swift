import Foundation
import PortcullisCore

extension StoreConformance {
    static let lockoutChecks: [ConformanceCheck] = [
        ConformanceCheck("lockout.reservationsCountLockAndRelease", store: { store in
            let policy = LockoutPolicy(threshold: 3)
            func reserve(at time: Date = now) async throws -> AttemptReservation {
                try await store.reserveAttempt(key: "bob", at: time, resetAfter: 900) { policy.lockout(afterFailures: $0) }
            }
            try expect(try await store.lockoutState(key: "bob"), AccountLockoutState(failures: 0, lockedUntil: nil), "unknown key")
            try expect(try await reserve(), .reserved(AccountLockoutState(failures: 1, lockedUntil: nil)), "first")
            try expect(try await reserve(), .reserved(AccountLockoutState(failures: 2, lockedUntil: nil)), "second")
            try expect(try await reserve(), .reserved(AccountLockoutState(failures: 3, lockedUntil: now.addingTimeInterval(60))),
                       "the attempt reaching the threshold runs and locks behind it")
            try expect(try await reserve(), .locked(until: now.addingTimeInterval(60)), "locked")
            try expect(try await store.lockoutState(key: "bob"), AccountLockoutState(failures: 3, lockedUntil: now.addingTimeInterval(60)), "state")
            try await store.releaseAttempt(key: "bob", threshold: 3)
            try expect(try await store.lockoutState(key: "bob"), AccountLockoutState(failures: 2, lockedUntil: nil),
                       "a release below the threshold lifts the lock; other failures stand")
            try expect(try await reserve(at: now.addingTimeInterval(901)), .reserved(AccountLockoutState(failures: 1, lockedUntil: nil)),
                       "after resetAfter quiet seconds the count starts again")
            try await store.releaseAttempt(key: "bob", threshold: 3)
            try expect(try await store.lockoutState(key: "bob"), AccountLockoutState(failures: 0, lockedUntil: nil), "released to zero")
            try await store.releaseAttempt(key: "nobody", threshold: 3)
            try expect(try await store.lockoutState(key: "nobody"), AccountLockoutState(failures: 0, lockedUntil: nil), "releasing an unknown key")
            _ = try await reserve()
            try expect(try await store.clearLockout(key: "bob"), true, "clear")
            try expect(try await store.clearLockout(key: "bob"), false, "clear again")
            try expect(try await store.lockoutState(key: "bob"), AccountLockoutState(failures: 0, lockedUntil: nil), "cleared")
        }),
        ConformanceCheck("lockout.aLockExpires", store: { store in
            let policy = LockoutPolicy(threshold: 1)
            _ = try await store.reserveAttempt(key: "k", at: now, resetAfter: 900) { policy.lockout(afterFailures: $0) }
            try expect(try await store.reserveAttempt(key: "k", at: now.addingTimeInterval(59), resetAfter: 900) { policy.lockout(afterFailures: $0) },
                       .locked(until: now.addingTimeInterval(60)), "inside the lock")
            let after = try await store.reserveAttempt(key: "k", at: now.addingTimeInterval(61), resetAfter: 900) { policy.lockout(afterFailures: $0) }
            try expect(after, .reserved(AccountLockoutState(failures: 2, lockedUntil: now.addingTimeInterval(61 + 120))), "after the lock, a doubled lock")
        }),
    ]

    static let auditChecks: [ConformanceCheck] = [
        ConformanceCheck("audit.appendsComeBackNewestFirstAndChained", store: { store in
            for index in 0..<5 {
                try await store.appendAudit(AuditEvent(at: now.addingTimeInterval(Double(index)), action: "a\(index)", actor: "cli",
                                                       subject: index == 0 ? nil : "s", remoteAddress: "127.0.0.1", detail: "d\(index)"))
            }
            let events = try await store.recentAudit(limit: 3)
            try expect(events.map(\.action), ["a4", "a3", "a2"], "newest first")
            try expect(events.allSatisfy { $0.id != nil }, "every event has an id")
            try expect(events.first?.at, now.addingTimeInterval(4), "time")
            try expect(events.first?.detail, "d4", "detail")
            let entries = try await store.auditEntries()
            try expect(entries.map(\.event.action), ["a0", "a1", "a2", "a3", "a4"], "entries oldest first")
            try expect(entries.first?.event.subject, nil, "a nil subject stays nil")
            guard case .intact(events: 5, _) = AuditChain.verify(entries) else {
                try expect(false, "an intact chain, saw \(AuditChain.verify(entries))"); return
            }
        }),
        ConformanceCheck("audit.emptyStoreHasAnEmptyChain", store: { store in
            try expect(try await store.recentAudit(limit: 10), [], "no events")
            try expect(AuditChain.verify(try await store.auditEntries()), .intact(events: 0, head: AuditChain.genesis), "empty chain")
        }),
    ]
}
