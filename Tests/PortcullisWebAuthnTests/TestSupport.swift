import Foundation
import PortcullisCrypto
import PortcullisWebAuthn
import Testing

func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = try #require(Bundle.module.url(forResource: "Vectors/\(name)", withExtension: nil))
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

func hex(_ text: String) -> [UInt8] { Hex.decode(text)! }

func b64(_ text: String) -> [UInt8] { Base64URL.decode(text)! }

/// The case name of an error, to compare with the `error` members of the vector files.
func caseName(_ error: WebAuthnError) -> String {
    if let label = Mirror(reflecting: error).children.first?.label { return label }
    let plain: [(WebAuthnError, String)] = [
        (.credentialIDMismatch, "credentialIDMismatch"), (.challengeMismatch, "challengeMismatch"), (.rpIDHashMismatch, "rpIDHashMismatch"),
        (.userNotPresent, "userNotPresent"), (.userNotVerified, "userNotVerified"), (.missingAttestedCredentialData, "missingAttestedCredentialData"),
        (.attestedCredentialIDMismatch, "attestedCredentialIDMismatch"), (.invalidAttestationSignature, "invalidAttestationSignature"),
        (.invalidSignature, "invalidSignature"),
    ]
    return plain.first { $0.0 == error }?.1 ?? "\(error)"
}

/// Runs `body` and returns the WebAuthnError it threw (failing the test when it threw none, or another error).
func refusal<T>(_ body: () throws -> T) -> WebAuthnError? {
    do {
        let value = try body()
        Issue.record("expected a refusal, got \(value)")
    } catch let error as WebAuthnError {
        return error
    } catch {
        Issue.record("expected a WebAuthnError, got \(error)")
    }
    return nil
}

/// The W3C section 16 vectors.
struct W3CVectors: Decodable {
    struct Vector: Decodable, CustomTestStringConvertible {
        struct Ceremony: Decodable {
            let challenge: String
            let credential: PublicKeyCredentialJSON
            let expected: Expected
        }
        struct Expected: Decodable {
            let error: String?
            let aaguid: String?
            let credentialPublicKey: String?
            let signCount: UInt32?
            let userVerified: Bool?
            let backupEligible: Bool?
            let backedUp: Bool?
        }
        let name: String
        let rpId: String
        let origin: String
        let fmt: String
        let coseAlg: Int
        let registration: Ceremony
        let authentication: Ceremony
        var testDescription: String { name }
    }
    let vectors: [Vector]

    static let all: [Vector] = (try? fixture("w3c-webauthn-l3.json", as: W3CVectors.self).vectors) ?? []
    static func named(_ name: String) throws -> Vector { try #require(all.first { $0.name == name }) }
}

extension W3CVectors.Vector {
    var relyingParty: WebAuthnRelyingParty { WebAuthnRelyingParty(id: rpId, origins: [origin]) }
    var publicKey: [UInt8] { b64(registration.expected.credentialPublicKey!) }

    func register(_ credential: PublicKeyCredentialJSON? = nil, rp: WebAuthnRelyingParty? = nil, challenge: [UInt8]? = nil,
                  requireUserVerification: Bool = false) throws(WebAuthnError) -> VerifiedRegistration {
        try (rp ?? relyingParty).verifyRegistration(credential ?? registration.credential, expectedChallenge: challenge ?? b64(registration.challenge),
                                                   requireUserVerification: requireUserVerification)
    }

    func authenticate(_ credential: PublicKeyCredentialJSON? = nil, rp: WebAuthnRelyingParty? = nil, challenge: [UInt8]? = nil,
                      storedSignCount: UInt32 = 0, requireUserVerification: Bool = false) throws(WebAuthnError) -> VerifiedAuthentication {
        try (rp ?? relyingParty).verifyAuthentication(credential ?? authentication.credential, expectedChallenge: challenge ?? b64(authentication.challenge),
                                                     credentialPublicKey: publicKey, storedSignCount: storedSignCount,
                                                     requireUserVerification: requireUserVerification)
    }
}

/// A copy of `bytes` with the byte at `index` (negative: from the end) XOR `mask`.
func flipping(_ bytes: [UInt8], at index: Int, mask: UInt8 = 0x01) -> [UInt8] {
    var copy = bytes
    copy[index < 0 ? copy.count + index : index] ^= mask
    return copy
}

/// The offset of `needle` in `haystack` (for byte surgery on attestation objects).
func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
}

/// A minimal CBOR encoder for building test inputs (definite lengths, shortest heads).
func cbor(_ value: CBORValue) -> [UInt8] {
    func head(_ major: UInt8, _ argument: UInt64) -> [UInt8] {
        switch argument {
        case 0..<24: [major << 5 | UInt8(argument)]
        case 24..<0x100: [major << 5 | 24, UInt8(argument)]
        case 0x100..<0x10000: [major << 5 | 25] + (0..<2).reversed().map { UInt8(truncatingIfNeeded: argument >> ($0 * 8)) }
        case 0x10000..<0x1_0000_0000: [major << 5 | 26] + (0..<4).reversed().map { UInt8(truncatingIfNeeded: argument >> ($0 * 8)) }
        default: [major << 5 | 27] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: argument >> ($0 * 8)) }
        }
    }
    switch value {
    case .unsigned(let n): return head(0, n)
    case .negative(let n): return head(1, n)
    case .bytes(let bytes): return head(2, UInt64(bytes.count)) + bytes
    case .text(let text): return head(3, UInt64(text.utf8.count)) + Array(text.utf8)
    case .array(let items): return head(4, UInt64(items.count)) + items.flatMap(cbor)
    case .map(let entries): return head(5, UInt64(entries.count)) + entries.flatMap { cbor($0.key) + cbor($0.value) }
    case .bool(let flag): return [flag ? 0xF5 : 0xF4]
    case .null: return [0xF6]
    case .undefined: return [0xF7]
    case .float(let number): return [0xFB] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: number.bitPattern >> ($0 * 8)) }
    }
}

extension CBORValue {
    /// An integer CBOR value.
    static func int(_ value: Int) -> CBORValue { value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-1 - value)) }

    /// A copy of this map with `key` set to `value` (added at the end when absent), or removed when `value` is nil.
    func setting(_ key: CBORValue, _ value: CBORValue?) -> CBORValue {
        var entries = mapEntries ?? []
        if let index = entries.firstIndex(where: { $0.key == key }) {
            if let value { entries[index].value = value } else { entries.remove(at: index) }
        } else if let value {
            entries.append(CBORMapEntry(key: key, value: value))
        }
        return .map(entries)
    }
}

extension PublicKeyCredentialJSON {
    /// A copy with the attestation object replaced.
    func with(attestationObject: [UInt8]) -> PublicKeyCredentialJSON {
        var copy = self
        copy.response.attestationObject = Base64URL.encode(attestationObject)
        return copy
    }

    /// A copy with the assertion's authenticator data and/or signature replaced.
    func with(authenticatorData: [UInt8]? = nil, signature: [UInt8]? = nil, clientDataJSON: [UInt8]? = nil) -> PublicKeyCredentialJSON {
        var copy = self
        if let authenticatorData { copy.response.authenticatorData = Base64URL.encode(authenticatorData) }
        if let signature { copy.response.signature = Base64URL.encode(signature) }
        if let clientDataJSON { copy.response.clientDataJSON = Base64URL.encode(clientDataJSON) }
        return copy
    }
}
