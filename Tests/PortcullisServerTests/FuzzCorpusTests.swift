import Foundation
import PortcullisFuzzTargets
import Testing

/// The smoke part of fuzzing that runs in `make test`: every committed corpus input and every crash
/// input ever found (Fuzz/crashes, kept as regressions) goes through its target's body once.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz").path

    @Test(arguments: ["jws", "policy", "request", "json", "webauthn"])
    func corpusAndCrashInputsRunCleanly(target: String) throws {
        let body: ([UInt8]) -> Void = switch target {
        case "jws": FuzzTargets.jws
        case "policy": FuzzTargets.policy
        case "json": FuzzTargets.json
        case "webauthn": FuzzTargets.webauthn
        default: FuzzTargets.request
        }
        let corpus = try FuzzTargets.replay(Self.root + "/corpus/" + target, body)
        _ = try FuzzTargets.replay(Self.root + "/crashes/" + target, body)
        #expect(corpus >= 3, "the seed corpus of \(target) is missing")
    }
}
