import PortcullisCrypto
import PortcullisWebAuthn
import Testing

/// COSE credential public keys: the three accepted kinds load, everything else is refused with
/// the reason, and ES256 signatures are checked in DER.
@Suite struct COSEKeyTests {
    struct Refused: Decodable, CustomTestStringConvertible {
        let name: String
        let cose: String
        let error: String
        var testDescription: String { name }
    }
    struct File: Decodable { let keys: [Refused] }

    static let refused = (try? fixture("cose-keys.json", as: File.self).keys) ?? []

    @Test(arguments: ["none-es256": COSEAlgorithm.es256, "packed-eddsa": .edDSA, "packed-rs256": .rs256].sorted { $0.key < $1.key })
    func realKeysLoadWithTheirAlgorithmAndBytes(name: String, algorithm: COSEAlgorithm) throws {
        let bytes = try W3CVectors.named(name).publicKey
        let key = try COSEKey(bytes: bytes)
        #expect(key.algorithm == algorithm)
        #expect(key.bytes == bytes)
    }

    @Test(arguments: refused)
    func malformedOrUnsupportedKeyIsRefused(key: Refused) {
        #expect(refusal { try COSEKey(bytes: b64(key.cose)) }.map(caseName) == key.error)
    }

    @Test func anOffCurvePointIsRefusedByTheCurveCheck() throws {
        let key = try #require(Self.refused.first { $0.name == "ec2-off-curve" })
        let error = try #require(refusal { try COSEKey(bytes: b64(key.cose)) })
        guard case .invalidPublicKey(let reason) = error else { Issue.record("\(error)"); return }
        // The same bytes with the real y load: only the point differs.
        #expect(try COSEKey(bytes: W3CVectors.named("none-es256").publicKey).algorithm == .es256)
        #expect(!reason.isEmpty)
    }

    @Test func aKeyTooSmallOrOfAnotherTypeSaysWhy() throws {
        let rsa = try #require(Self.refused.first { $0.name == "rsa-1024" })
        #expect(refusal { try COSEKey(bytes: b64(rsa.cose)) } == .invalidPublicKey("RSA keys must have at least 2048 bits"))
        let mismatch = try #require(Self.refused.first { $0.name == "ec2-with-eddsa-alg" })
        #expect(refusal { try COSEKey(bytes: b64(mismatch.cose)) } == .algorithmKeyTypeMismatch(algorithm: -8, keyType: 2))
        let es384 = try W3CVectorTests.registeredKey(W3CVectors.named("packed-es384"))
        #expect(refusal { try COSEKey(bytes: es384) } == .unsupportedAlgorithm("COSE algorithm -35 (accepted: -7 ES256, -8 EdDSA, -257 RS256)"))
    }

    @Test func anRSAModulusOpenSSLCouldNeverVerifyWithIsRefused() {
        let huge = cbor(.map([CBORMapEntry(key: .int(1), value: .int(3)), CBORMapEntry(key: .int(3), value: .int(-257)),
                              CBORMapEntry(key: .int(-1), value: .bytes([UInt8](repeating: 0xC5, count: 2049))),
                              CBORMapEntry(key: .int(-2), value: .bytes([1, 0, 1]))]))
        #expect(refusal { try COSEKey(bytes: huge) } == .invalidPublicKey("RSA modulus larger than 16384 bits"))
    }

    @Test func es256SignaturesAreDERAndCheckedStrictly() throws {
        let vector = try W3CVectors.named("none-es256")
        let key = try COSEKey(bytes: vector.publicKey)
        let response = vector.authentication.credential.response
        let message = b64(response.authenticatorData!) + Digest.sha256(b64(response.clientDataJSON))
        let der = b64(response.signature!)
        #expect(key.verify(signature: der, message: message))
        #expect(!key.verify(signature: der + [0x00], message: message))
        #expect(!key.verify(signature: flipping(der, at: -1), message: message))
        // The same signature with a long-form DER length (BER) is refused.
        let ber = [der[0], 0x81, der[1]] + der[2...]
        #expect(!key.verify(signature: ber, message: message))
        #expect(!key.verify(signature: [], message: message))
    }
}
