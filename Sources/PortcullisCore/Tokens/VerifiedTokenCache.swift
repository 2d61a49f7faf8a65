import Foundation
import PortcullisCrypto
import Synchronization

/// Access tokens whose signature, type and issuer were checked, so a repeat skips the signature check.
///
/// Keyed by the SHA-256 of the whole token (a token is never stored), bounded to `capacity`
/// entries in two generations (the older one is dropped when the newer fills), and an entry
/// is never used after its token's `exp` or once its `kid` leaves the key ring. Revocation is
/// not cached: `AuthService.introspect` checks it on every call, hit or miss.
///
/// A token is stored at its second check, not its first (the "doorkeeper" of TinyLFU): a token
/// checked once only leaves a 64-bit mark in a fixed table. Tokens seen once — a flood of new
/// tokens, or every token of a distinct-token load — then neither push repeated tokens out nor
/// fill the heap with claims that are never read again. Storing and dropping them cost a
/// distinct-token check about 5 % of its CPU here, most of it as a slower signature check (the
/// same libcrypto code ran 15–18 % slower per request; the CPU caches are the likely cause). A
/// repeated token pays one more full check.
public final class VerifiedTokenCache: Sendable {
    /// SHA-256 of a token as four words.
    struct Digest: Hashable {
        let words: (UInt64, UInt64, UInt64, UInt64)

        init(_ token: String) {
            let bytes = PortcullisCrypto.Digest.sha256(token)
            func word(_ at: Int) -> UInt64 {
                bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) }
            }
            words = (word(0), word(8), word(16), word(24))
        }

        static func == (lhs: Digest, rhs: Digest) -> Bool {
            lhs.words == rhs.words
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
        }
    }

    struct Entry {
        let claims: AccessTokenClaims
        let kid: String
    }

    private struct Generations {
        var recent: [Digest: Entry] = [:]
        var older: [Digest: Entry] = [:]
        /// Marks of tokens checked once and not stored; a slot holds the last token that fell in it.
        var seenOnce: [UInt64]
    }

    /// Most entries held at once.
    public let capacity: Int
    private let generationSize: Int
    private let state: Mutex<Generations>
    private let hitCount = Atomic<Int>(0)

    /// A cache of at most `capacity` tokens (at least 2).
    public init(capacity: Int) {
        self.capacity = max(2, capacity)
        self.generationSize = self.capacity / 2
        // The capacity (at least 1,024) rounded up to a power of two: 128 KiB at the default 10,000.
        let slots = 1 << (Int.bitWidth - (max(1_024, self.capacity) - 1).leadingZeroBitCount)
        state = Mutex(Generations(seenOnce: [UInt64](repeating: 0, count: slots)))
    }

    /// Entries held now.
    public var count: Int {
        state.withLock { $0.recent.count + $0.older.count }
    }

    /// Lookups answered from the cache so far.
    public var hits: Int {
        hitCount.load(ordering: .relaxed)
    }

    /// The cached claims of the token with `digest` if still in their time window at `now`
    /// and signed by a key that `isKeyLive` still accepts.
    func claims(for digest: Digest, now: Int64, isKeyLive: (String) -> Bool) -> AccessTokenClaims? {
        let (found, dropped): (Entry?, [Digest: Entry]) = state.withLock { state in
            if let entry = state.recent[digest] { return (entry, [:]) }
            guard let entry = state.older.removeValue(forKey: digest) else { return (nil, [:]) }
            return (entry, Self.insert(entry, for: digest, into: &state, generationSize: generationSize))
        }
        withExtendedLifetime(dropped) {}
        guard let entry = found else { return nil }
        guard AccessTokenSigner.isInTimeWindow(entry.claims, now: now), isKeyLive(entry.kid) else {
            state.withLock { state in
                state.recent[digest] = nil
                state.older[digest] = nil
            }
            return nil
        }
        hitCount.add(1, ordering: .relaxed)
        return entry.claims
    }

    /// Remembers a token that passed every check but revocation, if this is its second check
    /// (as far as its slot of marks recalls); else marks it as checked once.
    func insert(_ claims: AccessTokenClaims, kid: String, for digest: Digest) {
        let dropped = state.withLock { state -> [Digest: Entry] in
            // Other bits of the digest than the dictionary's hash uses; never 0, an empty slot's value.
            let slot = Int(truncatingIfNeeded: digest.words.2) & (state.seenOnce.count - 1)
            let mark = digest.words.3 | 1
            guard state.seenOnce[slot] == mark else {
                state.seenOnce[slot] = mark
                return [:]
            }
            state.seenOnce[slot] = 0
            return Self.insert(Entry(claims: claims, kid: kid), for: digest, into: &state, generationSize: generationSize)
        }
        withExtendedLifetime(dropped) {}
    }

    /// Adds `entry` to the recent generation, first making it the older one when full. Returns
    /// the generation that dropped out (empty when none), for the caller to free once the lock is
    /// released: freeing thousands of entries (and unmapping their storage) under it held every
    /// other token check on the lock, a kernel wait each under a distinct-token load.
    private static func insert(_ entry: Entry, for digest: Digest, into state: inout Generations, generationSize: Int) -> [Digest: Entry] {
        var dropped: [Digest: Entry] = [:]
        if state.recent.count >= generationSize {
            swap(&dropped, &state.older)
            state.older = state.recent
            state.recent = Dictionary(minimumCapacity: generationSize)
        }
        state.recent[digest] = entry
        return dropped
    }
}
