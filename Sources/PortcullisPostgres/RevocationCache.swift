import PortcullisCore
import Synchronization

/// Remembers "live" answers of the liveness read for a few seconds
/// (`PORTCULLIS_REVOCATION_CACHE_SECONDS`), so a replica can answer a repeated token check
/// without a round trip. Off by default.
///
/// Every change that can end a token — a revoked jti or family, a user disabled or deleted, a
/// client deleted, a role granted or revoked — fires a trigger that sends `NOTIFY` inside the
/// changing transaction (migration `v4-revocation-notify`), and each notification flushes the
/// whole cache. Answers are used only while the listener is connected: when it drops, the cache
/// is flushed and bypassed until it listens again. An answer read before a flush is never stored
/// after it (the generation check), so a revocation is seen by the first check after its
/// notification arrives; if the listener's connection dies silently, by the first check after
/// the entry's `ttl`.
final class RevocationCache: Sendable {
    /// The whole question is the key: the same token asked about with other arguments is another entry.
    typealias Key = LivenessQuestion

    private struct Entry {
        let roles: [String]
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var generation: UInt64 = 0
        var listening = false
    }

    /// How long one answer is used.
    let ttl: Duration
    /// Most answers kept; past it the cache starts over.
    let capacity: Int
    private let state = Mutex(State())

    init(ttl: Duration, capacity: Int = 100_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The roles of a cached live answer, or nil (ask the database).
    func answer(_ key: Key, now: ContinuousClock.Instant = .now) -> [String]? {
        state.withLock { state in
            guard state.listening, let entry = state.entries[key] else { return nil }
            guard entry.expires > now else {
                state.entries[key] = nil
                return nil
            }
            return entry.roles
        }
    }

    /// The generation to read under, or nil when answers may not be cached (not listening).
    func generation() -> UInt64? {
        state.withLock { $0.listening ? $0.generation : nil }
    }

    /// Keeps a live answer read under `generation`, unless a flush came in between.
    func keep(_ key: Key, roles: [String], readUnder generation: UInt64, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            guard state.listening, state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(roles: roles, expires: now + ttl)
        }
    }

    /// Forgets every answer (a notification arrived).
    func flush() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll(keepingCapacity: true)
        }
    }

    /// Listening began or ended: either way nothing cached before may be trusted.
    func setListening(_ listening: Bool) {
        state.withLock { state in
            state.listening = listening
            state.generation &+= 1
            state.entries.removeAll(keepingCapacity: true)
        }
    }

    /// True while the listener is connected.
    var isListening: Bool { state.withLock { $0.listening } }

    /// Answers kept (for tests).
    var count: Int { state.withLock { $0.entries.count } }
}
