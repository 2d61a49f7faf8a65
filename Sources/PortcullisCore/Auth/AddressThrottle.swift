public import Foundation

/// What one failure does to an address's counter: the one rule every store applies.
///
/// Failures are counted in a sliding minute, by whole second. The failure that brings the count
/// to `limit` trips the lock: the address is locked for a minute on the first trip, doubling on each
/// further trip up to an hour, and the count starts again from zero (failures that arrive while the
/// lock holds, from requests already past the check, count towards the next trip). The counter,
/// trips included, is forgotten `forgetAfter` seconds after its last failure or the end of its last
/// lock, whichever is later.
public struct AddressThrottleRule: Sendable {
    /// Failures in `window` seconds that trip the lock.
    public var limit: Int
    /// The sliding window, in whole seconds.
    public var window: Int64 = 60
    /// Length of the lock after the n-th trip (n ≥ 1).
    public var lockouts = LockoutPolicy(threshold: 1)
    /// Seconds after the last failure or lock end after which the counter is forgotten.
    public var forgetAfter: TimeInterval = 900

    /// A rule that trips after `limit` failures a minute.
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// The state after one failure at `at`, given the stored `previous` (nil when there is none).
    public func recording(failureAt at: Date, into previous: AddressThrottleState?) -> AddressThrottleState {
        var state = previous.flatMap { $0.expiresAt > at ? $0 : nil }
            ?? AddressThrottleState(recentFailures: [], trips: 0, lockedUntil: nil, expiresAt: at)
        let second = Int64(at.timeIntervalSince1970.rounded(.down))
        state.recentFailures.removeAll { $0.second <= second - window }
        if let index = state.recentFailures.firstIndex(where: { $0.second >= second }), state.recentFailures[index].second == second {
            state.recentFailures[index].count += 1
        } else {
            // Replicas' clocks may disagree by a little: keep the seconds in order.
            let index = state.recentFailures.firstIndex { $0.second > second } ?? state.recentFailures.endIndex
            state.recentFailures.insert(AddressThrottleState.Second(second: second, count: 1), at: index)
        }
        if state.failures >= limit {
            state.trips += 1
            state.lockedUntil = at.addingTimeInterval(lockouts.lockout(afterFailures: state.trips) ?? lockouts.baseLockout)
            state.recentFailures = []
        }
        state.expiresAt = max(at, state.lockedUntil ?? at).addingTimeInterval(forgetAfter)
        return state
    }
}

/// The per-address limit: failures from one client address (an IPv6 client's whole /64) lock it,
/// counted in the database so that every replica shares one budget.
public struct AddressThrottle: Sendable {
    let store: any AddressThrottleStore
    /// The rule each failure is counted by.
    public let rule: AddressThrottleRule

    /// A throttle over `store` locking an address after `limitPerMinute` failures within a minute.
    public init(store: any AddressThrottleStore, limitPerMinute: Int) {
        self.store = store
        self.rule = AddressThrottleRule(limit: limitPerMinute)
    }

    /// Seconds the address must still wait, or nil when it may try.
    public func retryAfter(address: String, now: Date) async throws -> Int? {
        guard let until = try await store.addressLockedUntil(key: Self.key(for: address)), until > now else { return nil }
        return secondsUntil(until, from: now)
    }

    /// `retryAfter` answered on the calling thread, or `.mustWait` when the store cannot.
    public func retryAfterImmediately(address: String, now: Date) throws -> Immediate<Int?> {
        guard case .answered(let until) = try store.addressLockedUntilImmediately(key: Self.key(for: address)) else { return .mustWait }
        guard let until, until > now else { return .answered(nil) }
        return .answered(secondsUntil(until, from: now))
    }

    /// Counts one failure; returns the address's counter after it (`lockedUntil` later than `now`
    /// when the address is locked).
    @discardableResult
    public func recordFailure(address: String, now: Date) async throws -> AddressThrottleState {
        try await store.recordAddressFailure(key: Self.key(for: address), at: now, rule: rule)
    }

    /// The key an address is counted under: an IPv4 address as it is; an IPv6 address as its /64
    /// (`2001:db8:1:2::/64`: one subscriber usually holds a whole /64, so counting single IPv6
    /// addresses would give one attacker 2^64 budgets); an IPv4-mapped IPv6 address as the IPv4
    /// address it carries. Anything else (`unknown`) is counted as it is.
    public static func key(for address: String) -> String {
        guard let parsed = IPAddress(address) else { return address }
        // A dotted quad parses only when spelled as its description spells it.
        if parsed.isIPv4 { return address }
        let unmapped = parsed.unmapped
        return unmapped.isIPv4 ? unmapped.description : "\(unmapped.prefix(64))/64"
    }
}
