public import Foundation
public import PortcullisCrypto

/// What is known about one signing key (kept in `Keys/keys.json`).
public struct KeyMetadata: Codable, Sendable, Equatable {
    /// Key id: the RFC 7638 thumbprint of the public key.
    public var kid: String
    /// The one algorithm this key signs and verifies with.
    public var alg: JWSAlgorithm
    /// When it was created.
    public var createdAt: Date
    /// When it was retired; retired keys are gone from the JWKS and verify nothing.
    public var retiredAt: Date?
    /// When a key kept in the database starts signing (published and verifying before); nil: at once.
    public var activatesAt: Date?

    /// Metadata of one key.
    public init(kid: String, alg: JWSAlgorithm, createdAt: Date, retiredAt: Date? = nil, activatesAt: Date? = nil) {
        self.kid = kid
        self.alg = alg
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.activatesAt = activatesAt
    }

    enum CodingKeys: String, CodingKey {
        case kid, alg
        case createdAt = "created_at"
        case retiredAt = "retired_at"
        case activatesAt = "activates_at"
    }
}

struct KeyManifest: Codable, Equatable {
    var signingKID: String
    var keys: [KeyMetadata]

    enum CodingKeys: String, CodingKey {
        case signingKID = "signing_kid"
        case keys
    }
}

/// The `Keys/` directory: PEM files (0600), a manifest naming the signing key, and the secrets key.
///
/// The server and the CLI both use it; the manifest is replaced atomically, so a running
/// server sees a rotation or retirement at its next request.
public struct KeyDirectory: Sendable {
    /// Path of the directory.
    public let path: String

    /// A directory at `path`.
    public init(path: String) {
        self.path = path
    }

    var manifestPath: String { path + "/keys.json" }
    /// Path of the 32-byte secrets key (AES-256-GCM key for data at rest).
    public var secretsKeyPath: String { path + "/secrets.key" }
    func pemPath(kid: String) -> String { path + "/\(kid).pem" }

    /// Creates what is missing: the directory, a first signing key and an RS256 key for ID tokens, the secrets key.
    /// - Returns: one line per thing created, for the start-up log.
    @discardableResult
    public func prepare(signingAlgorithm: JWSAlgorithm) throws -> [String] {
        try SecureFile.ensureDirectory(path)
        var created: [String] = []
        if try readManifest() == nil {
            let first = try addKey(signingAlgorithm, to: nil, makeSigning: true)
            created.append("created \(signingAlgorithm.rawValue) signing key \(first.kid) in \(path)")
        }
        // ID tokens default to RS256 (OIDC Core 3.1.3.7), so an RS256 key is always live.
        if let manifest = try readManifest(), !manifest.keys.contains(where: { $0.alg == .rs256 && $0.retiredAt == nil }) {
            let rsa = try addKey(.rs256, to: manifest, makeSigning: false)
            created.append("created RS256 ID-token key \(rsa.kid) in \(path)")
        }
        if try SecureFile.read(secretsKeyPath) == nil {
            try SecureFile.write(SecureRandom.bytes(32), to: secretsKeyPath)
            created.append("created secrets key \(secretsKeyPath)")
        }
        return created
    }

    /// Every key ever created, newest last.
    public func list() throws -> [KeyMetadata] {
        try readManifest()?.keys ?? []
    }

    /// The kid of the current signing key.
    public func signingKID() throws -> String? {
        try readManifest()?.signingKID
    }

    /// Adds a new key that becomes the signing key; older keys keep verifying until retired.
    public func rotate(_ algorithm: JWSAlgorithm) throws -> KeyMetadata {
        try addKey(algorithm, to: try readManifest(), makeSigning: true)
    }

    /// Retires a key: it leaves the JWKS and its private key file is deleted.
    ///
    /// Retiring the last live RS256 key creates a new one, so ID tokens can always be signed.
    public func retire(kid: String) throws {
        guard var manifest = try readManifest(), let index = manifest.keys.firstIndex(where: { $0.kid == kid }) else {
            throw PortcullisError.notFound("no key \(kid)")
        }
        guard manifest.signingKID != kid else {
            throw PortcullisError.conflict("key \(kid) is the signing key; rotate first")
        }
        guard manifest.keys[index].retiredAt == nil else {
            throw PortcullisError.conflict("key \(kid) is already retired")
        }
        manifest.keys[index].retiredAt = Date()
        try writeManifest(manifest)
        try? FileManager.default.removeItem(atPath: pemPath(kid: kid))
        // ID tokens need a live RS256 key: retiring the last one puts a fresh one in its place.
        if !manifest.keys.contains(where: { $0.alg == .rs256 && $0.retiredAt == nil }) {
            _ = try addKey(.rs256, to: manifest, makeSigning: false)
        }
    }

    /// Loads every live key into an immutable ring.
    public func load() throws -> KeyRing {
        guard let manifest = try readManifest() else {
            throw PortcullisError.internalFailure("no keys in \(path); start the server once or run `portcullis keys rotate`")
        }
        var keys: [String: SigningKey] = [:]
        for meta in manifest.keys where meta.retiredAt == nil {
            guard let pem = try SecureFile.read(pemPath(kid: meta.kid)) else {
                throw PortcullisError.internalFailure("key file for \(meta.kid) is missing")
            }
            let key = try SigningKey(pem: String(decoding: pem, as: UTF8.self))
            guard key.algorithm == meta.alg else {
                throw PortcullisError.internalFailure("key \(meta.kid) is \(key.algorithm.rawValue), manifest says \(meta.alg.rawValue)")
            }
            keys[meta.kid] = key
        }
        guard let signing = keys[manifest.signingKID] else {
            throw PortcullisError.internalFailure("signing key \(manifest.signingKID) is missing or retired")
        }
        return KeyRing(signingKID: manifest.signingKID, signingKey: signing, keys: keys, metadata: manifest.keys)
    }

    /// Creates the secrets key if it is missing (a database-backed key ring needs only that file here).
    public func prepareSecretsKey() throws {
        try SecureFile.ensureDirectory(path)
        if try SecureFile.read(secretsKeyPath) == nil {
            try SecureFile.write(SecureRandom.bytes(32), to: secretsKeyPath)
        }
    }

    /// True when the directory holds a key manifest (keys to `portcullis keys import`).
    public func hasKeys() throws -> Bool {
        try readManifest() != nil
    }

    /// The secrets key bytes.
    public func secretsKey() throws -> [UInt8] {
        guard let bytes = try SecureFile.read(secretsKeyPath), bytes.count == 32 else {
            throw PortcullisError.internalFailure("secrets key \(secretsKeyPath) is missing or not 32 bytes")
        }
        return bytes
    }

    func manifestStamp() -> FileStamp? {
        SecureFile.stamp(manifestPath)
    }

    private func addKey(_ algorithm: JWSAlgorithm, to manifest: KeyManifest?, makeSigning: Bool) throws -> KeyMetadata {
        try SecureFile.ensureDirectory(path)
        let key = try SigningKey.generate(algorithm)
        let meta = KeyMetadata(kid: try key.thumbprint(), alg: algorithm, createdAt: Date(), retiredAt: nil)
        try SecureFile.write(Array(try key.privateKeyPEM().utf8), to: pemPath(kid: meta.kid))
        var updated = manifest ?? KeyManifest(signingKID: meta.kid, keys: [])
        updated.keys.append(meta)
        if makeSigning { updated.signingKID = meta.kid }
        try writeManifest(updated)
        return meta
    }

    private func readManifest() throws -> KeyManifest? {
        guard let bytes = try SecureFile.read(manifestPath) else { return nil }
        do {
            return try Self.decoder.decode(KeyManifest.self, from: Data(bytes))
        } catch {
            throw PortcullisError.internalFailure("\(manifestPath) is not a valid key manifest: \(error)")
        }
    }

    private func writeManifest(_ manifest: KeyManifest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try SecureFile.write(Array(try encoder.encode(manifest)), to: manifestPath)
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
