import Foundation
import PortcullisCore
import PortcullisServer
import Testing

/// The passkey ceremonies' limits that python-fido2's interop run (Tests/interop/test_passkeys_fido2.py)
/// cannot reach without throttling the shared server.
@Suite struct PasskeyServiceTests {
    @Test func oneAddressGetsThirtyPasswordlessChallengesAMinuteThen429() async throws {
        let harness = try await Harness()
        let auth = harness.services.auth
        for _ in 0..<auth.passwordlessChallenges.perMinute {
            _ = try await auth.passwordlessOptions(username: nil, remoteAddress: "192.0.2.9")
        }
        await #expect(throws: PortcullisError.self) {
            _ = try await auth.passwordlessOptions(username: nil, remoteAddress: "192.0.2.9")
        }
        do {
            _ = try await auth.passwordlessOptions(username: nil, remoteAddress: "192.0.2.9")
            Issue.record("still over the budget")
        } catch PortcullisError.throttled(let seconds) {
            #expect((1...60).contains(seconds))
        }
        // Another address has its own budget.
        _ = try await auth.passwordlessOptions(username: nil, remoteAddress: "192.0.2.10")
    }
}
