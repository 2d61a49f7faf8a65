public import Foundation
public import PortcullisCrypto
import Synchronization

/// The key ring of a replica whose keys live in a shared database (`SigningKeyStore`): every
/// replica signs and verifies with the same keys.
///
/// Kept current three ways: `watch` reloads at every change another process announces (PostgreSQL
/// `LISTEN`), and polls while it cannot listen; a token with an unknown kid reloads at most once
/// a second (`refreshForUnknownKey`); and a key whose activation time passes starts signing
/// without a reload. A rotated key is published (JWKS, verify set) at once and signs only from
/// its activation time, so every replica verifies it before any replica signs with it.
public final class StoredKeyRing: KeyRingSource {
    /// Least time between two reloads caused by unknown kids.
    public static let unknownKeyReloadInterval: Duration = .seconds(1)
    /// How often `watch` reloads while it cannot listen for changes.
    public static let pollInterval: Duration = .seconds(5)

    private struct State {
        var rows: [StoredSigningKey]
        var opened: [String: SigningKey]
        var ring: KeyRing
        /// The earliest activation still ahead: the ring is rebuilt when it passes.
        var nextActivation: Date?
        var lastUnknownKeyReload: ContinuousClock.Instant?
    }

    private let store: any SigningKeyStore
    private let secrets: KeyEncryptionKeys
    private let clock: @Sendable () -> Date
    private let state: Mutex<State>

    /// Loads the ring from `store`, opening each live key with `secrets`.
    public init(store: any SigningKeyStore, secrets: KeyEncryptionKeys, clock: @escaping @Sendable () -> Date = { Date() }) async throws {
        self.store = store
        self.secrets = secrets
        self.clock = clock
        let rows = try await store.signingKeys()
        let opened = try Self.open(rows, reusing: [:], secrets: secrets)
        let (ring, next) = try Self.ring(rows, opened: opened, now: clock())
        self.state = Mutex(State(rows: rows, opened: opened, ring: ring, nextActivation: next))
    }

    public func current() -> KeyRing {
        let now = clock()
        return state.withLock { state in
            guard let next = state.nextActivation, next <= now else { return state.ring }
            // A pending key's activation passed: it signs from now on (no database read needed).
            if let (ring, following) = try? Self.ring(state.rows, opened: state.opened, now: now) {
                state.ring = ring
                state.nextActivation = following
            }
            return state.ring
        }
    }

    public func refreshForUnknownKey() async -> Bool {
        let now = ContinuousClock.now
        let allowed = state.withLock { state -> Bool in
            if let last = state.lastUnknownKeyReload, now - last < Self.unknownKeyReloadInterval { return false }
            state.lastUnknownKeyReload = now
            return true
        }
        guard allowed else { return false }
        return (try? await reload()) != nil
    }

    /// Reads every key again; keys opened before are not opened twice.
    public func reload() async throws {
        let rows = try await store.signingKeys()
        let reusable = state.withLock { $0.opened }
        let opened = try Self.open(rows, reusing: reusable, secrets: secrets)
        let (ring, next) = try Self.ring(rows, opened: opened, now: clock())
        state.withLock { state in
            state.rows = rows
            state.opened = opened
            state.ring = ring
            state.nextActivation = next
        }
    }

    /// Follows changes until cancelled: listens for them, reloading at each one and whenever
    /// listening (re)starts; while it cannot listen, reloads every `pollInterval`.
    /// `report` is told of each failure to listen or reload.
    public func watch(report: @escaping @Sendable (String) -> Void) async {
        while !Task.isCancelled {
            do {
                try await store.watchSigningKeys { [self] in
                    do { try await reload() } catch { report("cannot reload the signing keys: \(error)") }
                }
            } catch {
                if Task.isCancelled { return }
                report("lost the signing-key change listener (\(error)); polling every \(Self.pollInterval) until it is back")
            }
            try? await Task.sleep(for: Self.pollInterval)
            do { try await reload() } catch { report("cannot reload the signing keys: \(error)") }
        }
    }

    /// Opens every live key not already in `reusing`.
    static func open(_ rows: [StoredSigningKey], reusing: [String: SigningKey], secrets: KeyEncryptionKeys) throws -> [String: SigningKey] {
        var opened: [String: SigningKey] = [:]
        for row in rows where row.retiredAt == nil {
            if let key = reusing[row.kid] {
                opened[row.kid] = key
                continue
            }
            let pem = try secrets.open(row.sealedPrivateKey, keyID: row.sealedWith,
                                       associatedData: StoredSigningKey.associatedData(kid: row.kid, alg: row.alg))
            let key = try SigningKey(pem: String(decoding: pem, as: UTF8.self))
            guard key.algorithm == row.alg, try key.thumbprint() == row.kid else {
                throw PortcullisError.internalFailure("stored key \(row.kid) does not match its kid or algorithm")
            }
            opened[row.kid] = key
        }
        return opened
    }

    /// The key that signs at `now`: of the live keys that sign, the one activated last.
    public static func signingRow(_ rows: [StoredSigningKey], now: Date) -> StoredSigningKey? {
        rows.filter { $0.retiredAt == nil && $0.signs && $0.activatesAt <= now }
            .max(by: { ($0.activatesAt, $0.createdAt) < ($1.activatesAt, $1.createdAt) })
    }

    /// The ring at `now`: the newest active signing key signs; every live key verifies and is
    /// published. Also returns the next activation still ahead.
    static func ring(_ rows: [StoredSigningKey], opened: [String: SigningKey], now: Date) throws -> (KeyRing, Date?) {
        let live = rows.filter { $0.retiredAt == nil }
        guard let signing = signingRow(rows, now: now), let signingKey = opened[signing.kid] else {
            throw PortcullisError.internalFailure("no active signing key in the database; run `portcullis keys rotate`")
        }
        let pending = live.filter { $0.activatesAt > now }
        let metadata = rows.map {
            KeyMetadata(kid: $0.kid, alg: $0.alg, createdAt: $0.createdAt, retiredAt: $0.retiredAt, activatesAt: $0.activatesAt)
        }
        let ring = KeyRing(signingKID: signing.kid, signingKey: signingKey, keys: opened, metadata: metadata,
                           pending: Set(pending.map(\.kid)))
        return (ring, pending.map(\.activatesAt).min())
    }
}

/// What `portcullis keys` and the server's first start do to keys kept in a database.
public struct StoredKeyAdministration: Sendable {
    let store: any SigningKeyStore
    let secrets: KeyEncryptionKeys
    let clock: @Sendable () -> Date

    /// Administration of the keys in `store`, sealed with `secrets`.
    public init(store: any SigningKeyStore, secrets: KeyEncryptionKeys, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.secrets = secrets
        self.clock = clock
    }

    /// A new key sealed for storage.
    func make(_ algorithm: JWSAlgorithm, signs: Bool, activatesAt: Date? = nil) throws -> StoredSigningKey {
        let key = try SigningKey.generate(algorithm)
        let kid = try key.thumbprint()
        let sealed = try secrets.seal(Array(try key.privateKeyPEM().utf8), associatedData: StoredSigningKey.associatedData(kid: kid, alg: algorithm))
        let now = clock()
        return StoredSigningKey(kid: kid, alg: algorithm, sealedPrivateKey: sealed.box, sealedWith: sealed.keyID, signs: signs,
                                createdAt: now, activatesAt: activatesAt ?? now)
    }

    /// On an empty store: a signing key of `signingAlgorithm` and an RS256 key for ID tokens,
    /// active at once. Returns false (adding nothing) when another process created keys first.
    public func createInitialKeys(signingAlgorithm: JWSAlgorithm) async throws -> Bool {
        var keys = [try make(signingAlgorithm, signs: true)]
        // ID tokens default to RS256 (OIDC Core 3.1.3.7), so an RS256 key is always live.
        if signingAlgorithm != .rs256 { keys.append(try make(.rs256, signs: false)) }
        return try await store.addSigningKeys(keys, onlyIfEmpty: true)
    }

    /// Adds a key that starts signing after `activationDelay` seconds (published at once).
    /// On a store without a signing key, the new key signs at once (with an RS256 ID-token key beside it).
    public func rotate(_ algorithm: JWSAlgorithm, activationDelay: TimeInterval) async throws -> StoredSigningKey {
        let existing = try await store.signingKeys()
        guard existing.contains(where: { $0.signs && $0.retiredAt == nil }) else {
            var keys = [try make(algorithm, signs: true)]
            if algorithm != .rs256, !existing.contains(where: { $0.alg == .rs256 && $0.retiredAt == nil }) { keys.append(try make(.rs256, signs: false)) }
            _ = try await store.addSigningKeys(keys, onlyIfEmpty: false)
            return keys[0]
        }
        let key = try make(algorithm, signs: true, activatesAt: clock().addingTimeInterval(activationDelay))
        _ = try await store.addSigningKeys([key], onlyIfEmpty: false)
        return key
    }

    /// Retires a key that does not sign; retiring the last live RS256 key adds a new one.
    public func retire(kid: String) async throws {
        let rows = try await store.signingKeys()
        guard let row = rows.first(where: { $0.kid == kid }) else { throw PortcullisError.notFound("no key \(kid)") }
        guard row.retiredAt == nil else { throw PortcullisError.conflict("key \(kid) is already retired") }
        if StoredKeyRing.signingRow(rows, now: clock())?.kid == kid {
            throw PortcullisError.conflict("key \(kid) is the signing key; rotate first")
        }
        guard try await store.retireSigningKey(kid: kid, at: clock()) else { throw PortcullisError.conflict("key \(kid) is already retired") }
        let remaining = rows.filter { $0.kid != kid && $0.retiredAt == nil }
        if !remaining.contains(where: { $0.alg == .rs256 }) {
            _ = try await store.addSigningKeys([try make(.rs256, signs: false)], onlyIfEmpty: false)
        }
    }

    /// Reseals every key under the first key-encryption key; returns how many changed.
    public func rewrap() async throws -> Int {
        var changed = 0
        for row in try await store.signingKeys() where row.sealedWith != secrets.sealingID {
            let aad = StoredSigningKey.associatedData(kid: row.kid, alg: row.alg)
            let pem = try secrets.open(row.sealedPrivateKey, keyID: row.sealedWith, associatedData: aad)
            let sealed = try secrets.seal(pem, associatedData: aad)
            if try await store.resealSigningKey(kid: row.kid, expected: row.sealedPrivateKey, box: sealed.box, sealedWith: sealed.keyID) {
                changed += 1
            }
        }
        return changed
    }

    /// Copies a `Keys/` directory's keys into an empty store: its signing key signs, its other
    /// live keys verify (and sign ID tokens of their algorithm); retired keys are not copied.
    public func importKeys(from directory: KeyDirectory) async throws -> [StoredSigningKey] {
        guard try await store.signingKeys().isEmpty else {
            throw PortcullisError.conflict("the database holds signing keys already; import needs an empty key table")
        }
        let ring = try directory.load()
        var rows: [StoredSigningKey] = []
        for meta in ring.metadata where meta.retiredAt == nil {
            guard let key = ring.keys[meta.kid] else { continue }
            let aad = StoredSigningKey.associatedData(kid: meta.kid, alg: meta.alg)
            let sealed = try secrets.seal(Array(try key.privateKeyPEM().utf8), associatedData: aad)
            rows.append(StoredSigningKey(kid: meta.kid, alg: meta.alg, sealedPrivateKey: sealed.box, sealedWith: sealed.keyID,
                                         signs: meta.kid == ring.signingKID, createdAt: meta.createdAt, activatesAt: meta.createdAt))
        }
        guard try await store.addSigningKeys(rows, onlyIfEmpty: true) else {
            throw PortcullisError.conflict("the database holds signing keys already; import needs an empty key table")
        }
        return rows
    }

    /// Every key with its state at this moment: signing, pending, live or retired.
    public func list() async throws -> [(key: StoredSigningKey, state: String)] {
        let rows = try await store.signingKeys()
        let now = clock()
        let signing = StoredKeyRing.signingRow(rows, now: now)?.kid
        return rows.map { row in
            let state = row.retiredAt != nil ? "retired" : row.kid == signing ? "signing" : row.activatesAt > now ? "pending" : "live"
            return (row, state)
        }
    }
}
