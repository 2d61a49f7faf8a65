import Foundation
import PortcullisCrypto
import Testing

/// Known-answer vectors from the RFCs, read from `Vectors/known-answers.json`.
struct KnownAnswers: Decodable {
    struct ES256: Decodable { let jwk: JWK; let jws: String; let payload: String }
    struct Ed25519: Decodable { let jwk: JWK; let thumbprint: String; let payload: String; let jws: String }
    struct Argon2: Decodable {
        let memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32
        let password: String, salt: String, secret: String, associatedData: String, tag: String
    }
    struct HMACCase: Decodable { let key: String; let message: String; let sha1: String; let sha256: String; let sha512: String }

    let es256: ES256
    let ed25519: Ed25519
    let argon2id: Argon2
    let hmac: [HMACCase]

    static func load() throws -> KnownAnswers {
        try JSONDecoder().decode(KnownAnswers.self, from: try fixture("known-answers.json"))
    }
}

struct RejectedKeys: Decodable {
    let p384: String
    let rsa1024: String

    static func load() throws -> RejectedKeys {
        try JSONDecoder().decode(RejectedKeys.self, from: try fixture("rejected-keys.json"))
    }
}

func fixture(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Vectors/\(name)", withExtension: nil))
    return try Data(contentsOf: url)
}

func hex(_ text: String) -> [UInt8] {
    Hex.decode(text)!
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
