import Foundation
import PortcullisCore

extension StoreConformance {
    static let addressThrottleChecks: [ConformanceCheck] = [
        ConformanceCheck("addressThrottle.failuresCountTripAtTheLimitAndLockLongerEachTime", store: { store in
            let rule = AddressThrottleRule(limit: 3)
            func fail(_ key: String = "192.0.2.1", after seconds: TimeInterval = 0) async throws -> AddressThrottleState {
                try await store.recordAddressFailure(key: key, at: now.addingTimeInterval(seconds), rule: rule)
            }
            try expect(try await store.addressLockedUntil(key: "192.0.2.1"), nil, "unknown key")
            try expect(try await fail().failures, 1, "first")
            let second = try await fail(after: 1)
            try expect(second.failures, 2, "second")
            try expect(second.lockedUntil, nil, "below the limit")
            try expect(try await store.addressLockedUntil(key: "192.0.2.1"), nil, "no lock below the limit")
            let third = try await fail(after: 2)
            try expect(third, AddressThrottleState(recentFailures: [], trips: 1, lockedUntil: now.addingTimeInterval(62),
                                                   expiresAt: now.addingTimeInterval(62 + 900)), "the failure at the limit trips")
            try expect(try await store.addressLockedUntil(key: "192.0.2.1"), now.addingTimeInterval(62), "the lock as stored")
            try expect(try await store.addressLockedUntil(key: "192.0.2.2"), nil, "another key is not locked")
            try expect(try await fail("192.0.2.2", after: 2).failures, 1, "another key counts from zero")
            for offset in [70.0, 71] { _ = try await fail(after: offset) }
            try expect(try await fail(after: 72).lockedUntil, now.addingTimeInterval(72 + 120), "the second trip locks twice as long")
            try expect(try await store.addressLockedUntil(key: "192.0.2.1"), now.addingTimeInterval(72 + 120), "the longer lock as stored")
        }),
        ConformanceCheck("addressThrottle.theWindowSlidesAndAForgottenCounterStartsAgain", store: { store in
            let rule = AddressThrottleRule(limit: 3)
            func fail(after seconds: TimeInterval) async throws -> AddressThrottleState {
                try await store.recordAddressFailure(key: "2001:db8:1:2::/64", at: now.addingTimeInterval(seconds), rule: rule)
            }
            _ = try await fail(after: 0)
            _ = try await fail(after: 30)
            let late = try await fail(after: 61)
            try expect(late.failures, 2, "the failure at 0 s left the window; 30 s and 61 s are in it")
            try expect(late.recentFailures.map(\.second), [Int64(now.timeIntervalSince1970) + 30, Int64(now.timeIntervalSince1970) + 61],
                       "seconds kept, oldest first")
            let tripped = try await fail(after: 62)
            try expect(tripped.trips, 1, "30, 61 and 62 s lie within one minute")
            let forgotten = try await fail(after: 62 + 60 + 900)
            try expect(forgotten.trips, 0, "counted from nothing once the counter expired")
            try expect(forgotten.failures, 1, "this failure only")
        }),
        ConformanceCheck("addressThrottle.theJanitorRemovesForgottenCounters", store: { store in
            let rule = AddressThrottleRule(limit: 1)
            _ = try await store.recordAddressFailure(key: "old", at: now.addingTimeInterval(-2000), rule: rule)
            _ = try await store.recordAddressFailure(key: "new", at: now, rule: rule)
            let removed = try await store.removeExpired(ExpiryCutoff(expiredBefore: now, tokenlessFamiliesStartedBefore: now, keepDecisions: 100))
            var expected = RemovedRows()
            expected.addressThrottles = 1
            try expect(removed, .swept(expected), "removed")
            try expect(try await store.addressLockedUntil(key: "old"), nil, "the forgotten counter is gone")
            try expect(try await store.addressLockedUntil(key: "new"), now.addingTimeInterval(60), "the live lock stays")
        }),
    ]
}
