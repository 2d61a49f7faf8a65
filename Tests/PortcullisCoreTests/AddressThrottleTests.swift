import Foundation
import PortcullisCore
import Testing

@Suite struct AddressThrottleRuleTests {
    let start = Date(timeIntervalSince1970: 1_000)

    /// Applies `rule` to a failure at each offset from `start`, as a store would, one after the other.
    func record(_ rule: AddressThrottleRule, at offsets: [TimeInterval], from state: AddressThrottleState? = nil) -> AddressThrottleState? {
        offsets.reduce(state) { state, offset in rule.recording(failureAt: start.addingTimeInterval(offset), into: state) }
    }

    @Test func theFailureThatReachesTheLimitLocksForAMinuteAndLongerEachTrip() {
        let rule = AddressThrottleRule(limit: 3)
        let two = record(rule, at: [0, 1])
        #expect(two?.failures == 2 && two?.lockedUntil == nil)
        let tripped = record(rule, at: [2], from: two)
        #expect(tripped?.trips == 1 && tripped?.failures == 0, "a trip starts the count again")
        #expect(tripped?.lockedUntil == start.addingTimeInterval(62))
        let second = record(rule, at: [70, 71, 72], from: tripped)
        #expect(second?.trips == 2)
        #expect(second?.lockedUntil == start.addingTimeInterval(72 + 120), "the second trip locks twice as long")
    }

    @Test func failuresOlderThanAMinuteDoNotCount() {
        let rule = AddressThrottleRule(limit: 3)
        let state = record(rule, at: [0, 1, 61])
        #expect(state?.failures == 1 && state?.lockedUntil == nil, "at 61 s, the failures at 0 s and 1 s are a minute old or more")
        #expect(state?.recentFailures.map(\.second) == [1061])
        let sliding = record(rule, at: [30, 61, 62])
        #expect(sliding?.trips == 1, "the window slides: 30, 61 and 62 lie within one minute")
    }

    @Test func failuresInOneSecondShareABucketAndLateOnesKeepTheOrder() {
        let rule = AddressThrottleRule(limit: 100)
        let state = record(rule, at: [5.1, 5.9, 7, 6])
        #expect(state?.recentFailures == [.init(second: 1005, count: 2), .init(second: 1006, count: 1), .init(second: 1007, count: 1)])
        #expect(state.map { AddressThrottleState.decodeFailures($0.encodedFailures) } == state?.recentFailures)
        #expect(AddressThrottleState.decodeFailures("1:2 garbage 3:x 4:1") == [.init(second: 1, count: 2), .init(second: 4, count: 1)])
    }

    @Test func failuresWhileLockedCountTowardsTheNextTrip() {
        let rule = AddressThrottleRule(limit: 2)
        let state = record(rule, at: [0, 1, 2, 3])
        #expect(state?.trips == 2, "four failures at a limit of two: two trips, however they were let through")
        #expect(state?.lockedUntil == start.addingTimeInterval(3 + 120))
    }

    @Test func theCounterIsForgottenAQuarterHourAfterItsLockEnds() {
        let rule = AddressThrottleRule(limit: 1)
        let tripped = record(rule, at: [0])
        #expect(tripped?.expiresAt == start.addingTimeInterval(60 + 900))
        #expect(record(rule, at: [959], from: tripped)?.trips == 2, "still remembered: the second lock doubles")
        let fresh = record(rule, at: [960], from: tripped)
        #expect(fresh?.trips == 1 && fresh?.lockedUntil == start.addingTimeInterval(960 + 60), "forgotten: a first lock again")
    }
}

@Suite struct AddressKeyTests {
    @Test func ipv4AddressesAreTheirOwnKey() {
        #expect(AddressThrottle.key(for: "192.0.2.7") == "192.0.2.7")
        #expect(AddressThrottle.key(for: "10.0.0.1") != AddressThrottle.key(for: "10.0.0.2"))
    }

    @Test func ipv6AddressesAreCountedPerSlash64() {
        #expect(AddressThrottle.key(for: "2001:db8:1:2::5") == "2001:db8:1:2::/64")
        #expect(AddressThrottle.key(for: "2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64")
        #expect(AddressThrottle.key(for: "2001:db8:1:3::5") == "2001:db8:1:3::/64", "the next /64 is another key")
        #expect(AddressThrottle.key(for: "2001:db8::1") == "2001:db8::/64")
        #expect(AddressThrottle.key(for: "::1") == "::/64")
        #expect(AddressThrottle.key(for: "fe80::1%eth0") == "fe80::/64", "a zone is not part of the address")
    }

    @Test func ipv4MappedIPv6IsCountedAsIPv4() {
        #expect(AddressThrottle.key(for: "::ffff:192.0.2.7") == "192.0.2.7")
        #expect(AddressThrottle.key(for: "::ffff:c000:207") == "192.0.2.7")
    }

    @Test func anythingElseIsCountedAsItIs() {
        #expect(AddressThrottle.key(for: "unknown") == "unknown")
        #expect(AddressThrottle.key(for: "192.0.2.256") == "192.0.2.256")
        #expect(AddressThrottle.key(for: "") == "")
    }
}

@Suite struct IPAddressTests {
    @Test func parsesAndPrintsTheCanonicalForms() {
        #expect(IPAddress("192.0.2.1")?.description == "192.0.2.1")
        #expect(IPAddress("2001:DB8:0:0:0:0:0:1")?.description == "2001:db8::1")
        #expect(IPAddress("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1", "the first of two equal zero runs")
        #expect(IPAddress("2001:db8:0:1:1:1:1:1")?.description == "2001:db8:0:1:1:1:1:1", "one zero group is not shortened")
        #expect(IPAddress("::")?.description == "::")
        #expect(IPAddress("::ffff:1.2.3.4")?.unmapped.description == "1.2.3.4")
        #expect(IPAddress("1:2:3:4:5:6:7::")?.description == "1:2:3:4:5:6:7:0")
    }

    /// The byte-wise dotted-quad parser against a plain split over 20,000 generated strings of
    /// digits and dots (leading zeros, values past 255, empty and extra parts), and the throttle
    /// key of each address that parses against the key's general rule.
    @Test func dottedQuadsParseAsAPlainSplitReadsThem() {
        func reference(_ text: String) -> [UInt8]? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), part == "0" || part.first != "0",
                      let value = UInt8(part) else { return nil }
                bytes.append(value)
            }
            return bytes
        }
        let pieces = ["0", "1", "9", "00", "01", "25", "255", "256", "300", "1000", ".", ".", "..", "x", "-1"]
        var random = SeededRandom(state: 3)
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 0...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let parsed = IPAddress(text)
            #expect((parsed?.isIPv4 == true ? parsed?.bytes : nil) == reference(text), "\(text)")
            if let parsed {
                #expect(AddressThrottle.key(for: text) == parsed.unmapped.description, "\(text)")
            }
        }
    }

    @Test func refusesWhatIsNotExactlyAnAddress() {
        for bad in ["", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1:2:3:4:5:6:7:8:9", "1::2::3",
                    ":1::", "1:::2", "12345::", "g::1", "::1.2.3", "1.2.3.4::", "[::1]", "1.2.3.4:80", "unknown", "١.٢.٣.٤"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func networksContainTheirMembersOnly() throws {
        let ten = try #require(IPNetwork("10.0.0.0/8"))
        #expect(ten.contains(IPAddress("10.255.0.1")!) && !ten.contains(IPAddress("11.0.0.1")!))
        #expect(ten.contains(IPAddress("::ffff:10.1.2.3")!), "an IPv4-mapped peer is its IPv4 address")
        let v6 = try #require(IPNetwork("2001:db8::/32"))
        #expect(v6.contains(IPAddress("2001:db8:ffff::1")!) && !v6.contains(IPAddress("2001:db9::1")!))
        #expect(!v6.contains(IPAddress("10.0.0.1")!))
        #expect(IPNetwork("192.0.2.7")?.description == "192.0.2.7/32", "a bare address is a block of one")
        #expect(IPNetwork("::1")?.description == "::1/128")
        #expect(IPNetwork("0.0.0.0/0")?.contains(IPAddress("203.0.113.9")!) == true)
        for bad in ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "2001:db8::/129", "proxy.example", "10.0.0.0/ 8"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test func trustedProxiesAreACommaSeparatedListAndABadEntryIsNamed() throws {
        var configuration = PortcullisConfiguration()
        #expect(configuration.trustedProxies.isEmpty)
        try configuration.apply(environment: ["PORTCULLIS_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5 ,2001:db8::/32"])
        #expect(configuration.trustedProxies.map(\.description) == ["10.0.0.0/8", "192.168.1.5/32", "2001:db8::/32"])
        #expect(configuration.settings.first { $0.key == "PORTCULLIS_TRUSTED_PROXIES" }?.value == "10.0.0.0/8,192.168.1.5/32,2001:db8::/32")
        let error = #expect(throws: PortcullisError.self) {
            try configuration.apply(environment: ["PORTCULLIS_TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.1/8"])
        }
        #expect(error?.description.contains("\"10.0.0.1/8\"") == true, "\(String(describing: error))")
        try configuration.apply(key: "PORTCULLIS_TRUSTED_PROXIES", value: "")
        #expect(configuration.trustedProxies.isEmpty, "empty: no proxy is trusted")
    }
}
