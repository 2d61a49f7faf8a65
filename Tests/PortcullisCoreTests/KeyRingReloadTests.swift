import Foundation
import PortcullisCore
import Synchronization
import Testing

/// A clock that moves only when told to.
final class ManualClock: Sendable {
    private let start = ContinuousClock.now
    private let elapsed = Mutex<Duration>(.zero)

    func now() -> ContinuousClock.Instant { start + elapsed.withLock { $0 } }

    /// Sets the time to `offset` after the start.
    func set(_ offset: Duration) { elapsed.withLock { $0 = offset } }
}

/// Collects what a provider reports.
final class ReportLog: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

/// A keys directory with a provider over it, and a rotation the provider has not seen yet.
struct ReloadHarness {
    let directory: KeyDirectory
    let provider: KeyRingProvider
    let clock = ManualClock()
    let reports = ReportLog()
    /// The signing key the provider loaded at start.
    let firstKID: String
    /// A manifest naming a newer signing key, `rotatedKID`: writing it back "fixes" the directory.
    let rotatedManifest: Data
    let rotatedKID: String

    init() throws {
        directory = KeyDirectory(path: temporaryDirectory())
        try directory.prepare(signingAlgorithm: .es256)
        let clock = clock, reports = reports
        provider = try KeyRingProvider(directory: directory, reportReloadFailure: { reports.append($0) }, clock: { clock.now() })
        firstKID = provider.current().signingKID
        rotatedKID = try KeyDirectory(path: directory.path).rotate(.es256).kid
        rotatedManifest = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/keys.json"))
    }

    var manifestPath: String { directory.path + "/keys.json" }

    /// Replaces the manifest as the CLI does (a new file renamed over the old one).
    func writeManifest(_ data: Data) throws {
        try data.write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
    }

    func corruptManifest() throws {
        try writeManifest(Data("{ \"signing_kid\": ".utf8))
    }

    /// The signing key served at `seconds` after the start.
    func signingKID(at seconds: Double) -> String {
        clock.set(.milliseconds(Int64(seconds * 1000)))
        return provider.current().signingKID
    }
}

@Suite struct KeyRingReloadTests {
    @Test func aCorruptManifestKeepsTheLastGoodRingAndIsReportedOnceWithItsReason() throws {
        let harness = try ReloadHarness()
        try harness.corruptManifest()
        // Many requests, spread over many back-off periods: every retry fails the same way.
        for step in 0..<500 {
            #expect(harness.signingKID(at: Double(step)) == harness.firstKID)
        }
        #expect(harness.reports.all.count == 1, "\(harness.reports.all)")
        let report = try #require(harness.reports.all.first)
        #expect(report.contains("keys.json is not a valid key manifest"), "\(report)")
        #expect(report.contains("still serving signing key \(harness.firstKID)"), "\(report)")
    }

    @Test func noReloadIsAttemptedBeforeTheBackoffElapsesAndTheFixedManifestIsServedAfter() throws {
        let harness = try ReloadHarness()
        try harness.corruptManifest()
        #expect(harness.signingKID(at: 0) == harness.firstKID)   // fails: next attempt at 1 s
        try harness.writeManifest(harness.rotatedManifest)
        // A reload now would succeed, so serving the old key proves none was attempted.
        #expect(harness.signingKID(at: 0.5) == harness.firstKID)
        #expect(harness.signingKID(at: 0.999) == harness.firstKID)
        #expect(harness.signingKID(at: 1) == harness.rotatedKID)
        #expect(harness.reports.all.count == 1)
    }

    @Test func retriesBackOffFromOneSecondDoublingToAMinuteAndStartOverAfterASuccess() throws {
        let harness = try ReloadHarness()
        try harness.corruptManifest()
        // Failures at 0, 1, 3, 7, 15, 31 and 63 s; after 63 s the wait is capped at 60 s, not 64.
        for (attempt, nextAttempt) in [(0.0, 1.0), (1, 3), (3, 7), (7, 15), (15, 31), (31, 63)] {
            #expect(harness.signingKID(at: attempt) == harness.firstKID)
            #expect(harness.signingKID(at: nextAttempt - 0.01) == harness.firstKID)
        }
        #expect(harness.signingKID(at: 63) == harness.firstKID)
        try harness.writeManifest(harness.rotatedManifest)
        #expect(harness.signingKID(at: 122.99) == harness.firstKID)
        #expect(harness.signingKID(at: 123) == harness.rotatedKID)

        // A success resets the back-off: the next failure waits 1 s again, and is reported again.
        let thirdKID = try KeyDirectory(path: harness.directory.path).rotate(.edDSA).kid
        let third = try Data(contentsOf: URL(fileURLWithPath: harness.manifestPath))
        try harness.corruptManifest()
        #expect(harness.signingKID(at: 200) == harness.rotatedKID)
        try harness.writeManifest(third)
        #expect(harness.signingKID(at: 200.99) == harness.rotatedKID)
        #expect(harness.signingKID(at: 201) == thirdKID)
        #expect(harness.reports.all.count == 2, "\(harness.reports.all)")
    }

    @Test func aDifferentFailureIsReportedAgain() throws {
        let harness = try ReloadHarness()
        try harness.corruptManifest()
        #expect(harness.signingKID(at: 0) == harness.firstKID)
        // The manifest is repaired but the new key's file is gone: a new reason, a new report.
        try FileManager.default.removeItem(atPath: harness.directory.path + "/\(harness.rotatedKID).pem")
        try harness.writeManifest(harness.rotatedManifest)
        for second in 1...100 { #expect(harness.signingKID(at: Double(second)) == harness.firstKID) }
        #expect(harness.reports.all.count == 2, "\(harness.reports.all)")
        #expect(harness.reports.all.last?.contains("key file for \(harness.rotatedKID) is missing") == true, "\(harness.reports.all)")
    }
}
