import Synchronization

/// The ids of revoked access tokens, kept in memory and brought up to date whenever the file
/// changed, so that checking a token seen for the first time reads nothing for its `jti`.
///
/// Migration `v10-revocation-log` has triggers on `revoked_access_tokens` keep two things,
/// whichever process writes: `revoked_access_token_log`, a row per revoked id numbered above
/// every number in the log, and `revoked_access_token_removals`, a count of rows removed (by the
/// expiry sweep). When the data version (`DataVersion`) moved since the set was last brought up
/// to date, a lookup first reads, in one statement, that count and the ids numbered after the
/// last one it read; if the count moved, it reads the whole log instead, so the set holds
/// exactly the table's ids. (A number is used again only after the highest row was removed,
/// and that moves the count.) The read begins after the version was read, so a revocation
/// committed before the request is in the set it asks. One lookup updates at a time; the others
/// of that moment wait for it, then use it.
final class RevokedTokenMemory: Sendable {
    /// What one read of the log found.
    struct LogRead {
        /// How many revocations have been removed so far.
        let removals: Int64
        /// Ids with their numbers: those numbered after the number asked for.
        let revocations: [(sequence: Int64, jti: String)]
    }

    private struct State {
        /// The data version the set is current for.
        var version: Int64 = -1
        /// The number of the last revocation read, and the removals count the set reflects.
        var lastSequence: Int64 = 0
        var removals: Int64 = -1
        var revoked: Set<String> = []
    }

    private let dataVersion: DataVersion
    private let state = Mutex(State())
    /// Held by the one lookup reading the log.
    private let updating = Mutex<Void>(())

    /// A memory brought up to date whenever `dataVersion` changes.
    init(watching dataVersion: DataVersion) {
        self.dataVersion = dataVersion
    }

    /// Ids held now (for tests).
    var count: Int { state.withLock { $0.revoked.count } }

    /// Whether `jti` is revoked; `read` reads the log in one statement: the removals count and
    /// the ids numbered after its argument (all of them for 0).
    func isRevoked(_ jti: String, read: (Int64) throws -> LogRead) throws -> Bool {
        let version = try dataVersion.current()
        if let known = state.withLock({ $0.version == version ? $0.revoked.contains(jti) : nil }) { return known }
        return try updating.withLock { _ in
            // Another lookup may have brought the set up to this version meanwhile.
            if case let (after, removals)? = state.withLock({ $0.version == version ? nil : ($0.lastSequence, $0.removals) }) {
                var found = try read(after)
                var whole = after == 0
                if !whole && found.removals != removals {
                    // Something was removed: start over from the whole log.
                    found = try read(0)
                    whole = true
                }
                state.withLock { state in
                    if whole { state.revoked.removeAll(keepingCapacity: true) }
                    for revocation in found.revocations {
                        state.revoked.insert(revocation.jti)
                        state.lastSequence = max(state.lastSequence, revocation.sequence)
                    }
                    state.removals = found.removals
                    // Read after `version` was, so at least as new as it (a lookup holding an
                    // older reading only makes the next lookup read again).
                    state.version = version
                }
            }
            return state.withLock { $0.revoked.contains(jti) }
        }
    }
}
