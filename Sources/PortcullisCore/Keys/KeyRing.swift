import Logging
public import PortcullisCrypto
import Synchronization

/// Where the server reads its keys: `Keys/` (`KeyRingProvider`) or a shared database (`StoredKeyRing`).
public protocol KeyRingSource: Sendable {
    /// The ring to sign and verify with now.
    func current() -> KeyRing
    /// Called when a token names a kid the ring lacks: a source that other processes change may
    /// reload (rate-limited); returns true when the ring may have changed.
    func refreshForUnknownKey() async -> Bool
}

/// An immutable snapshot of the live keys: one signing key, every key that still verifies.
public struct KeyRing: Sendable {
    /// Key id of the signing key.
    public let signingKID: String
    /// The key new tokens are signed with.
    public let signingKey: SigningKey
    /// Every live (not retired) key by id.
    public let keys: [String: SigningKey]
    /// Metadata of every key, retired ones included.
    public let metadata: [KeyMetadata]
    /// Keys published and verifying that may not sign yet (their activation is ahead).
    public let pending: Set<String>

    /// A ring signing with `signingKID`.
    public init(signingKID: String, signingKey: SigningKey, keys: [String: SigningKey], metadata: [KeyMetadata], pending: Set<String> = []) {
        self.signingKID = signingKID
        self.signingKey = signingKey
        self.keys = keys
        self.metadata = metadata
        self.pending = pending
    }

    /// The live key with this id.
    public func key(kid: String) -> SigningKey? {
        keys[kid]
    }

    /// The newest live, active key of `algorithm`, preferring the signing key.
    public func newestKey(_ algorithm: JWSAlgorithm) -> (kid: String, key: SigningKey)? {
        if signingKey.algorithm == algorithm { return (signingKID, signingKey) }
        for meta in metadata.reversed() where meta.alg == algorithm && meta.retiredAt == nil && !pending.contains(meta.kid) {
            if let key = keys[meta.kid] { return (meta.kid, key) }
        }
        return nil
    }

    /// The public JWKS of every live key, oldest first.
    public func jwks() throws -> JWKSet {
        try JWKSet(keys: metadata.filter { $0.retiredAt == nil }.compactMap { meta in
            try keys[meta.kid]?.publicJWK(kid: meta.kid)
        })
    }
}

/// Hands out the current `KeyRing`, reloading it when the manifest on disk changes.
///
/// A `keys rotate` or `keys retire` by the CLI takes effect at the server's next request. On
/// Linux an inotify watch on the directory says whether anything changed (one non-blocking read
/// per call); the manifest is `stat`ed only then, and at least once a second whatever the watch
/// says (a file system that does not report changes, such as a network one). Elsewhere, when
/// the watch cannot be set up or breaks, or when the manifest is a symbolic link (its target
/// may change where the watch does not look), every call `stat`s the manifest.
///
/// A change that cannot be loaded (a corrupt manifest, a missing key file) leaves the last good
/// ring serving. The failure is reported once, with its reason, until it changes or a reload
/// succeeds, and the load is retried after 1 s, then 2, 4 … up to 60 s: a broken directory costs
/// one failed load per back-off period, not one per request. A fix is therefore picked up at the
/// end of the current back-off period (at most a minute), not at the next request.
public final class KeyRingProvider: KeyRingSource {
    /// First wait after a failed reload; doubled after each further failure.
    public static let initialBackoff: Duration = .seconds(1)
    /// Longest wait between two reload attempts.
    public static let maximumBackoff: Duration = .seconds(60)

    /// Longest time the watch alone vouches for the manifest.
    static let watchTrustedFor: Duration = .seconds(1)

    private struct State {
        var stamp: FileStamp?
        var ring: KeyRing
        /// Set while the manifest on disk cannot be loaded.
        var failure: Failure?
        /// Looks at which the watch reported a change, so far.
        var changesSeen = 0
        /// Of those, the ones a `stat` made after them has settled; fewer than `changesSeen`
        /// while a reported change waits for its `stat`.
        var changesSettled = 0
        /// Set once the watch stops reporting: every call `stat`s.
        var watchBroken = false
        /// When the manifest is next `stat`ed even if the watch saw nothing.
        var nextCheck: ContinuousClock.Instant
    }

    private struct Failure {
        var reason: String
        var backoff: Duration
        var retryAt: ContinuousClock.Instant
    }

    private let directory: KeyDirectory
    private let report: @Sendable (String) -> Void
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<State>
    private let changes: DirectoryChanges?

    /// Loads the ring from `directory`.
    /// - Parameters:
    ///   - directory: the keys directory.
    ///   - reportReloadFailure: told once per distinct reload failure, with its reason; nil logs
    ///     an error on the `portcullis.keys` logger (`serve` passes its own logger).
    ///   - clock: the time used for the back-off; tests pass their own.
    public init(
        directory: KeyDirectory,
        reportReloadFailure: (@Sendable (String) -> Void)? = nil,
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) throws {
        self.directory = directory
        self.report = reportReloadFailure ?? { Logger(label: "portcullis.keys").error("\($0)") }
        self.now = clock
        let stamp = directory.manifestStamp()
        self.state = Mutex(State(stamp: stamp, ring: try directory.load(), failure: nil, nextCheck: clock() + Self.watchTrustedFor))
        self.changes = SecureFile.isRegularFile(directory.manifestPath) ? DirectoryChanges.watch(directory.path) : nil
    }

    /// Nothing to do: `current` already sees every change to the manifest.
    public func refreshForUnknownKey() async -> Bool { false }

    /// The current ring; if the manifest changed and cannot be loaded, the last good ring.
    public func current() -> KeyRing {
        if let changes, let unchanged = unchangedRing(watchedBy: changes) { return unchanged }
        let (cachedStamp, cached, retryAt, seen) = state.withLock { ($0.stamp, $0.ring, $0.failure?.retryAt, $0.changesSeen) }
        if let retryAt, now() < retryAt { return cached }
        let stamp = directory.manifestStamp()
        guard stamp != cachedStamp else {
            state.withLock { state in
                // Back where the good ring came from (the bad change was undone): nothing left to retry.
                if retryAt != nil { state.failure = nil }
                settle(&state, changesSeenBeforeStat: seen)
            }
            return cached
        }
        do {
            let fresh = try directory.load()
            state.withLock { state in
                (state.stamp, state.ring, state.failure) = (stamp, fresh, nil)
                settle(&state, changesSeenBeforeStat: seen)
            }
            return fresh
        } catch {
            // PortcullisError's description hides an internal failure's text (it is what clients see); the operator needs it.
            let reason = if case PortcullisError.internalFailure(let message) = error { message } else { "\(error)" }
            let isNew = state.withLock { state -> Bool in
                let backoff = state.failure.map { min($0.backoff * 2, Self.maximumBackoff) } ?? Self.initialBackoff
                let isNew = state.failure?.reason != reason
                state.failure = Failure(reason: reason, backoff: backoff, retryAt: now() + backoff)
                return isNew
            }
            if isNew {
                report("cannot reload the keys in \(directory.path): \(reason); still serving signing key \(cached.signingKID), retrying with back-off")
            }
            return cached
        }
    }

    /// The ring without a `stat`, when the watch saw nothing and no check is due; nil when the
    /// manifest must be looked at. The watch is read under the lock, so a change one call read
    /// leaves every other call `stat`ing until a `stat` made after it settles it.
    private func unchangedRing(watchedBy changes: DirectoryChanges) -> KeyRing? {
        state.withLock { state in
            // A broken watch is not read again: every call `stat`s from then on.
            guard !state.watchBroken else { return nil }
            switch changes.look() {
            case .unchanged: break
            case .changed: state.changesSeen += 1
            case .broken:
                state.watchBroken = true
                return nil
            }
            guard state.changesSettled == state.changesSeen, state.failure == nil, now() < state.nextCheck else { return nil }
            return state.ring
        }
    }

    /// After a `stat` (and load) that began when the watch had reported `changesSeenBeforeStat`
    /// changes: the ring is current unless the watch reported another since.
    private func settle(_ state: inout State, changesSeenBeforeStat seen: Int) {
        state.changesSettled = max(state.changesSettled, seen)
        state.nextCheck = now() + Self.watchTrustedFor
    }
}
