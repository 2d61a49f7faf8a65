import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PortcullisCore
import PortcullisServer
import Testing

@Suite struct ClientAddressResolverTests {
    let resolver = ClientAddressResolver(trustedProxies: ["10.0.0.0/8", "2001:db8:ffff::/48"].compactMap(IPNetwork.init))

    func client(peer: String? = "10.0.0.2", xff: [String] = [], forwarded: [String] = []) -> String {
        resolver.clientAddress(peer: peer, forwardedFor: xff, forwarded: forwarded)
    }

    @Test func headersFromAnUntrustedPeerAreIgnored() {
        #expect(client(peer: "203.0.113.9", xff: ["198.51.100.1"]) == "203.0.113.9", "a spoofed X-Forwarded-For")
        #expect(client(peer: "203.0.113.9", forwarded: ["for=198.51.100.1"]) == "203.0.113.9", "a spoofed Forwarded")
        let trustingNobody = ClientAddressResolver(trustedProxies: [])
        #expect(trustingNobody.clientAddress(peer: "10.0.0.2", forwardedFor: ["198.51.100.1"], forwarded: []) == "10.0.0.2")
        #expect(client(peer: nil, xff: ["198.51.100.1"]) == "unknown", "no peer (router tests)")
        #expect(client(xff: []) == "10.0.0.2", "a trusted peer without a header is the client")
    }

    @Test func theRightmostUntrustedHopIsTheClient() {
        #expect(client(xff: ["198.51.100.1"]) == "198.51.100.1")
        #expect(client(xff: ["198.51.100.1, 10.1.1.1, 10.2.2.2"]) == "198.51.100.1", "trusted proxies in the chain are skipped")
        #expect(client(xff: ["6.6.6.6, 198.51.100.1, 10.1.1.1"]) == "198.51.100.1",
                "what the client wrote left of the first proxy's entry is not believed")
        #expect(client(xff: ["6.6.6.6", "198.51.100.1"]) == "198.51.100.1", "several header lines are one list")
        #expect(client(xff: ["10.3.3.3, 10.1.1.1"]) == "10.3.3.3", "every hop trusted: the farthest")
        #expect(client(xff: ["198.51.100.1:4711"]) == "198.51.100.1", "a port is dropped")
        #expect(client(xff: ["2001:DB8::1"]) == "2001:db8::1", "canonical IPv6")
        #expect(client(xff: ["[2001:db8::1]:443"]) == "2001:db8::1")
        #expect(client(peer: "2001:db8:ffff::5", xff: ["198.51.100.1"]) == "198.51.100.1", "an IPv6 proxy")
        #expect(client(peer: "::ffff:10.0.0.2", xff: ["198.51.100.1"]) == "198.51.100.1", "an IPv4-mapped proxy")
    }

    @Test func forwardedIsReadWhenThereIsNoXForwardedFor() {
        #expect(client(forwarded: ["for=192.0.2.60;proto=http;by=203.0.113.43"]) == "192.0.2.60")
        #expect(client(forwarded: [#"for="[2001:db8:cafe::17]:4711""#]) == "2001:db8:cafe::17", "IPv6 in brackets, quoted, with a port")
        #expect(client(forwarded: [#"for=192.0.2.43, for="[2001:db8:cafe::17]", for=10.1.1.1"#]) == "2001:db8:cafe::17")
        #expect(client(forwarded: ["For=192.0.2.43"]) == "192.0.2.43", "parameter names are case-insensitive")
        #expect(client(forwarded: [#"proto=https;for="192.0.2.43:80";by=x"#]) == "192.0.2.43")
        #expect(client(xff: ["198.51.100.1"], forwarded: ["for=192.0.2.60"]) == "198.51.100.1", "X-Forwarded-For first")
    }

    @Test func garbageGivesThePeerAddress() {
        #expect(client(xff: [String(repeating: "6.6.6.6,", count: 100) + "198.51.100.1"]) == "198.51.100.1",
                "a long prefix written by the client changes nothing")
        #expect(client(xff: [String(repeating: "10.0.0.1,", count: 40) + "10.0.0.3"]) == "10.0.0.2",
                "more trusted hops than are read: the peer")
        for bad in ["", "not-an-address", "198.51.100.1, garbage", "unknown", "1.2.3.4.5", "[198.51.100.1]", "[::1]x", "198.51.100.1:99999"] {
            #expect(client(xff: [bad]) == "10.0.0.2", "X-Forwarded-For: \(bad)")
        }
        for bad in ["for=unknown", "for=_hidden", #"for="198.51.100.1"#, "for=198.51.100.1;for=198.51.100.2", "by=10.0.0.1",
                    #"for="198.51.100.1"x"#, "for", "=198.51.100.1", #"for=192.0.2.43, for="[2001:db8:cafe::17]"#] {
            #expect(client(forwarded: [bad]) == "10.0.0.2", "Forwarded: \(bad)")
        }
    }
}

@Suite struct ClientAddressServerTests {
    /// A server on a free port whose clients come from 127.0.0.1, failing after `limit` failures.
    func makeHarness(limit: Int, trusting proxies: String?) async throws -> Harness {
        let harness = try await Harness { configuration in
            configuration.port = 0
            configuration.addressFailureLimit = limit
            if let proxies { configuration.trustedProxies = proxies.split(separator: ",").compactMap(IPNetwork.init) }
        }
        try await harness.addUser()
        return harness
    }

    func failLogin(_ client: any TestClientProtocol, as username: String, forwardedFor: String?) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let forwardedFor { headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor }
        let body = #"{"username":"\#(username)","password":"wrong password"}"#
        return try await client.execute(uri: "/v1/login", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func theFailureBudgetIsSharedByAWholeIPv6Slash64() async throws {
        let harness = try await makeHarness(limit: 3, trusting: "127.0.0.1")
        try await buildApplication(harness.services, logger: Logger(label: "test")).test(.live) { (client: any TestClientProtocol) async throws -> Void in
            for (index, address) in ["2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2:ffff:ffff:ffff:ffff"].enumerated() {
                #expect(try await failLogin(client, as: "user\(index)", forwardedFor: address).status == .unauthorized)
            }
            let sameSlash64 = try await failLogin(client, as: "user9", forwardedFor: "2001:db8:1:2::1234")
            #expect(sameSlash64.status == .tooManyRequests, "another address of the same /64 shares the budget")
            #expect(sameSlash64.headers[.retryAfter] == "60")
            #expect(try await failLogin(client, as: "user9", forwardedFor: "2001:db8:1:3::1").status == .unauthorized,
                    "the next /64 has its own budget")
            #expect(try await failLogin(client, as: "user9", forwardedFor: nil).status == .unauthorized,
                    "the proxy itself was never charged")
        }
        let audited = try await harness.store.recentAudit(limit: 10).compactMap(\.remoteAddress)
        #expect(audited.contains("2001:db8:1:2::a") && audited.contains("127.0.0.1"), "the audit log names the forwarded client: \(audited)")
    }

    @Test func xForwardedForIsIgnoredUnlessThePeerIsATrustedProxy() async throws {
        let harness = try await makeHarness(limit: 3, trusting: nil)
        try await buildApplication(harness.services, logger: Logger(label: "test")).test(.live) { (client: any TestClientProtocol) async throws -> Void in
            for index in 0..<3 {
                #expect(try await failLogin(client, as: "user\(index)", forwardedFor: "203.0.113.\(index + 1)").status == .unauthorized)
            }
            #expect(try await failLogin(client, as: "user9", forwardedFor: "203.0.113.99").status == .tooManyRequests,
                    "a new spoofed address each time does not buy a new budget")
        }
        let audited = Set(try await harness.store.recentAudit(limit: 10).compactMap(\.remoteAddress))
        #expect(audited == ["127.0.0.1"], "the audit log names the peer: \(audited)")
    }

    @Test func aPeerOutsideTheTrustedListIsNotBelieved() async throws {
        let harness = try await makeHarness(limit: 2, trusting: "10.0.0.0/8,::1")
        try await buildApplication(harness.services, logger: Logger(label: "test")).test(.live) { (client: any TestClientProtocol) async throws -> Void in
            #expect(try await failLogin(client, as: "user1", forwardedFor: "203.0.113.1").status == .unauthorized)
            #expect(try await failLogin(client, as: "user2", forwardedFor: "203.0.113.2").status == .unauthorized)
            #expect(try await failLogin(client, as: "user3", forwardedFor: "203.0.113.3").status == .tooManyRequests)
        }
    }
}
