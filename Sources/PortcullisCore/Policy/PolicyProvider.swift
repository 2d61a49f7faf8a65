import Foundation
public import PortcullisPolicy
import Synchronization

/// The policy in force, swapped atomically when the files in its directory change.
///
/// Requests read an immutable `Policy` snapshot (no actor hop, no lock held while deciding).
/// An invalid change is recorded as `pendingErrors` and the last good policy stays in force.
public final class PolicyProvider: Sendable {
    /// The directory watched.
    public let directory: String
    private struct State {
        var policy: Policy
        var fingerprint: [String: FileStamp]
        var pendingErrors: [String]
    }
    private let state: Mutex<State>

    /// Loads the directory; throws `PolicyLoadError` (with every FILE:LINE) when it is invalid.
    public init(directory: String) throws {
        self.directory = directory
        let fingerprint = Self.fingerprint(of: directory)
        let policy = try Policy.load(directory: directory)
        state = Mutex(State(policy: policy, fingerprint: fingerprint, pendingErrors: []))
    }

    /// A provider over an already compiled policy (tests, `policy explain`); never reloads.
    public init(policy: Policy) {
        directory = ""
        state = Mutex(State(policy: policy, fingerprint: [:], pendingErrors: []))
    }

    /// The policy in force.
    public var current: Policy { state.withLock { $0.policy } }

    /// Errors of the last change that could not be loaded; empty when the files on disk are in force.
    public var pendingErrors: [String] { state.withLock { $0.pendingErrors } }

    /// What happened at one check of the directory.
    public enum ReloadOutcome: Sendable, Equatable {
        /// Nothing changed on disk.
        case unchanged
        /// The new files are in force, with this version.
        case reloaded(version: String)
        /// The new files are invalid; the previous policy stays.
        case rejected(errors: [String])
    }

    /// Reloads when any policy file was added, removed or changed since the last check.
    @discardableResult
    public func reloadIfChanged() -> ReloadOutcome {
        guard !directory.isEmpty else { return .unchanged }
        let fingerprint = Self.fingerprint(of: directory)
        guard fingerprint != state.withLock({ $0.fingerprint }) else { return .unchanged }
        do {
            let policy = try Policy.load(directory: directory)
            state.withLock { $0 = State(policy: policy, fingerprint: fingerprint, pendingErrors: []) }
            return .reloaded(version: policy.version)
        } catch let error as PolicyLoadError {
            let errors = error.issues.map(\.description)
            state.withLock { $0.fingerprint = fingerprint; $0.pendingErrors = errors }
            return .rejected(errors: errors)
        } catch {
            let errors = ["\(directory): \(error)"]
            state.withLock { $0.fingerprint = fingerprint; $0.pendingErrors = errors }
            return .rejected(errors: errors)
        }
    }

    /// Checks the directory every `interval` until the task is cancelled, reporting each change.
    public func watch(every interval: Duration = .milliseconds(500), onChange: @Sendable (ReloadOutcome) -> Void) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let outcome = reloadIfChanged()
            if outcome != .unchanged { onChange(outcome) }
        }
    }

    static func fingerprint(of directory: String) -> [String: FileStamp] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var result: [String: FileStamp] = [:]
        for name in names where name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".csv") {
            result[name] = SecureFile.stamp(directory + "/" + name)
        }
        return result
    }
}
