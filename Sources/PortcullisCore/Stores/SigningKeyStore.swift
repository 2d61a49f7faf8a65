public import Foundation
public import PortcullisCrypto

/// One signing key as a shared database keeps it: the private key sealed under a key-encryption
/// key (`KeyEncryptionKeys`), bound to its kid and algorithm.
public struct StoredSigningKey: Sendable, Equatable {
    /// Key id: the RFC 7638 thumbprint of the public key.
    public var kid: String
    /// The one algorithm this key signs and verifies with.
    public var alg: JWSAlgorithm
    /// The PKCS#8 PEM of the private key, sealed (AES-256-GCM; associated data: kid and alg).
    public var sealedPrivateKey: [UInt8]
    /// `KeyEncryptionKeys.id` of the key that sealed it.
    public var sealedWith: String
    /// True for a key that signs access tokens from `activatesAt`; false for a key that only
    /// verifies and signs ID tokens of its algorithm.
    public var signs: Bool
    /// When it was created.
    public var createdAt: Date
    /// When it may start signing; before that it is published and verifies, but signs nothing.
    public var activatesAt: Date
    /// When it was retired; a retired key is gone from the JWKS and verifies nothing.
    public var retiredAt: Date?

    /// A stored key.
    public init(kid: String, alg: JWSAlgorithm, sealedPrivateKey: [UInt8], sealedWith: String, signs: Bool,
                createdAt: Date, activatesAt: Date, retiredAt: Date? = nil) {
        self.kid = kid
        self.alg = alg
        self.sealedPrivateKey = sealedPrivateKey
        self.sealedWith = sealedWith
        self.signs = signs
        self.createdAt = createdAt
        self.activatesAt = activatesAt
        self.retiredAt = retiredAt
    }

    /// The associated data its box is sealed with: a box moved to another row does not open.
    public static func associatedData(kid: String, alg: JWSAlgorithm) -> [UInt8] {
        Array("portcullis-signing-key-v1|\(kid)|\(alg.rawValue)".utf8)
    }
}

/// Signing keys shared by every replica (PostgreSQL). On SQLite the keys stay in `Keys/`.
///
/// Every change notifies the other processes (`watchSigningKeys`) inside its transaction.
public protocol SigningKeyStore: Sendable {
    /// Every key, retired ones included, oldest first.
    func signingKeys() async throws -> [StoredSigningKey]
    /// Adds `keys` in one transaction. With `onlyIfEmpty`, adds nothing and returns false when any
    /// key exists (replicas starting at once on an empty database create one set between them).
    func addSigningKeys(_ keys: [StoredSigningKey], onlyIfEmpty: Bool) async throws -> Bool
    /// Retires a live key; false when there is no live key `kid`.
    func retireSigningKey(kid: String, at: Date) async throws -> Bool
    /// Replaces a key's sealed box if it is still `expected` (`portcullis keys rewrap`).
    func resealSigningKey(kid: String, expected: [UInt8], box: [UInt8], sealedWith: String) async throws -> Bool
    /// Calls `onChange` at every change made by any process, from when listening begins until
    /// the task is cancelled; throws when the listening connection is lost.
    func watchSigningKeys(_ onChange: @escaping @Sendable () async -> Void) async throws
}
