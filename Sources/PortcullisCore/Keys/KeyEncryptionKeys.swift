import Foundation
public import PortcullisCrypto

/// The keys that seal signing keys kept in the database (AES-256-GCM; docs/DATABASES.md,
/// "Signing keys"). The first seals; every one opens, so an operator can put a new key first,
/// run `portcullis keys rewrap`, and only then drop the old one. They never enter the database:
/// they come from `PORTCULLIS_SECRETS_KEY` or `Keys/secrets.key`.
public struct KeyEncryptionKeys: Sendable {
    /// The keys, 32 bytes each; the first seals.
    public let keys: [[UInt8]]

    /// A list of 32-byte keys, the first sealing; throws on an empty list or a key of another length.
    public init(_ keys: [[UInt8]]) throws {
        guard !keys.isEmpty else { throw PortcullisError.invalidRequest("no key-encryption key") }
        for (index, key) in keys.enumerated() where key.count != 32 {
            throw PortcullisError.invalidRequest("key-encryption key \(index + 1) is \(key.count) bytes, not 32")
        }
        self.keys = keys
    }

    /// `PORTCULLIS_SECRETS_KEY`: comma-separated keys, each 32 bytes in base64url or base64.
    public init(parsing text: String) throws {
        var keys: [[UInt8]] = []
        for (index, part) in text.split(separator: ",").enumerated() {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            let normalised = trimmed.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            guard let bytes = Base64URL.decode(normalised), bytes.count == 32 else {
                throw PortcullisError.invalidRequest("PORTCULLIS_SECRETS_KEY: key \(index + 1) is not 32 bytes of base64url or base64")
            }
            keys.append(bytes)
        }
        try self.init(keys)
    }

    /// The key that seals.
    public var sealing: [UInt8] { keys[0] }

    /// A short public name of a key (the first 8 bytes of its SHA-256, hex), stored beside each
    /// sealed box so that opening tries the right key first.
    public static func id(of key: [UInt8]) -> String {
        Hex.encode(Digest.sha256(key).prefix(8))
    }

    /// The id of the sealing key.
    public var sealingID: String { Self.id(of: sealing) }

    /// `plaintext` sealed under the first key, bound to `associatedData`.
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8]) throws -> (box: [UInt8], keyID: String) {
        (try AESGCM.seal(plaintext, key: sealing, associatedData: associatedData), sealingID)
    }

    /// Opens a box sealed under any of the keys (the one named `keyID` first); throws when none opens it.
    public func open(_ box: [UInt8], keyID: String?, associatedData: [UInt8]) throws -> [UInt8] {
        let ordered = keys.filter { Self.id(of: $0) == keyID } + keys.filter { Self.id(of: $0) != keyID }
        for key in ordered {
            if let plaintext = try? AESGCM.open(box, key: key, associatedData: associatedData) { return plaintext }
        }
        throw PortcullisError.internalFailure("no key-encryption key opens this box (sealed under \(keyID ?? "an unknown key"))")
    }
}
