public import PortcullisCrypto
import Synchronization

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

    /// The live key with this id.
    public func key(kid: String) -> SigningKey? {
        keys[kid]
    }

    /// The newest live key of `algorithm`, preferring the signing key.
    public func newestKey(_ algorithm: JWSAlgorithm) -> (kid: String, key: SigningKey)? {
        if signingKey.algorithm == algorithm { return (signingKID, signingKey) }
        for meta in metadata.reversed() where meta.alg == algorithm && meta.retiredAt == nil {
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
/// A `stat` per call is the whole cost when nothing changed, so a `keys rotate` or
/// `keys retire` by the CLI takes effect at the server's next request.
public final class KeyRingProvider: Sendable {
    private let directory: KeyDirectory
    private let state: Mutex<(stamp: FileStamp?, ring: KeyRing)>

    /// Loads the ring from `directory`.
    public init(directory: KeyDirectory) throws {
        self.directory = directory
        let stamp = directory.manifestStamp()
        self.state = Mutex((stamp, try directory.load()))
    }

    /// The current ring; if the manifest changed and cannot be loaded, the last good ring.
    public func current() -> KeyRing {
        let stamp = directory.manifestStamp()
        let (cachedStamp, cached) = state.withLock { ($0.stamp, $0.ring) }
        guard stamp != cachedStamp else { return cached }
        guard let fresh = try? directory.load() else { return cached }
        state.withLock { $0 = (stamp, fresh) }
        return fresh
    }
}
