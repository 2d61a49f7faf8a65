import PortcullisCrypto
import PortcullisWebAuthn
import Testing

/// Real credentials from browsers and authenticators (YubiKeys, Windows Hello TPMs, an Apple
/// passkey, Android, Firefox's old clientDataJSON) collected by duo-labs/py_webauthn's tests.
@Suite struct PyWebauthnVectorTests {
    struct Vectors: Decodable {
        struct Registration: Decodable, CustomTestStringConvertible {
            struct Expected: Decodable {
                let error: String?
                let fmt: String?
                let alg: Int?
                let signCount: UInt32?
                let aaguid: String?
                let credentialID: String?
                let credentialPublicKey: String?
                let userVerified: Bool?
                let backupEligible: Bool?
                let backedUp: Bool?
            }
            let name: String
            let rpId: String
            let origins: [String]
            let challenge: String
            let credential: PublicKeyCredentialJSON
            let expect: Expected
            var testDescription: String { name }
        }
        struct Authentication: Decodable, CustomTestStringConvertible {
            struct Expected: Decodable {
                let error: String?
                let signCount: UInt32?
                let userVerified: Bool?
                let userHandle: String?
            }
            let name: String
            let rpId: String
            let origins: [String]
            let challenge: String
            let credential: PublicKeyCredentialJSON
            let credentialPublicKey: String
            let storedSignCount: UInt32
            let requireUserVerification: Bool
            let expect: Expected
            var testDescription: String { name }
        }
        let registrations: [Registration]
        let authentications: [Authentication]
    }

    static let vectors = try? fixture("py_webauthn.json", as: Vectors.self)

    @Test(arguments: vectors?.registrations ?? [])
    func realRegistrationIsVerified(vector: Vectors.Registration) throws {
        let rp = WebAuthnRelyingParty(id: vector.rpId, origins: vector.origins)
        let verify = { () throws(WebAuthnError) in
            try rp.verifyRegistration(vector.credential, expectedChallenge: b64(vector.challenge), requireUserVerification: false)
        }
        if let error = vector.expect.error {
            #expect(refusal(verify).map(caseName) == error)
            return
        }
        let verified = try verify()
        #expect(verified.attestationFormat == vector.expect.fmt)
        #expect(verified.algorithm == vector.expect.alg)
        #expect(verified.signCount == vector.expect.signCount)
        #expect(verified.aaguid == hex(try #require(vector.expect.aaguid)))
        #expect(verified.credentialID == b64(try #require(vector.expect.credentialID)))
        #expect(verified.publicKey == b64(try #require(vector.expect.credentialPublicKey)))
        #expect(verified.userVerified == vector.expect.userVerified)
        #expect(verified.backupEligible == vector.expect.backupEligible)
        #expect(verified.backedUp == vector.expect.backedUp)
    }

    @Test(arguments: vectors?.authentications ?? [])
    func realAssertionIsVerified(vector: Vectors.Authentication) throws {
        let rp = WebAuthnRelyingParty(id: vector.rpId, origins: vector.origins)
        let verify = { () throws(WebAuthnError) in
            try rp.verifyAuthentication(vector.credential, expectedChallenge: b64(vector.challenge), credentialPublicKey: b64(vector.credentialPublicKey),
                                        storedSignCount: vector.storedSignCount, requireUserVerification: vector.requireUserVerification)
        }
        if let error = vector.expect.error {
            #expect(refusal(verify).map(caseName) == error)
            return
        }
        let verified = try verify()
        #expect(verified.signCount == vector.expect.signCount)
        #expect(verified.userVerified == vector.expect.userVerified)
        #expect(verified.userHandle == vector.expect.userHandle.map(b64))
        #expect(verified.credentialID == b64(vector.credential.rawId))
    }

    @Test func theVectorsCoverEveryAlgorithmAndSeveralFormats() throws {
        let vectors = try #require(Self.vectors)
        #expect(Set(vectors.registrations.compactMap(\.expect.alg)) == [-7, -8, -257])
        #expect(Set(vectors.registrations.compactMap(\.expect.fmt)).isSuperset(of: ["none", "packed", "tpm", "fido-u2f", "apple", "android-key"]))
        #expect(vectors.authentications.filter { $0.expect.error == nil }.count >= 4)
    }

    @Test func aCounterThatGoesBackwardsIsReportedAfterAValidSignature() throws {
        // Given a real assertion whose counter is 78, when the stored counter is already 78 or more:
        let vector = try #require(Self.vectors?.authentications.first { $0.name.hasSuffix("EC2_public_key") })
        let rp = WebAuthnRelyingParty(id: vector.rpId, origins: vector.origins)
        for stored: UInt32 in [78, 100] {
            let answer = refusal {
                try rp.verifyAuthentication(vector.credential, expectedChallenge: b64(vector.challenge), credentialPublicKey: b64(vector.credentialPublicKey),
                                            storedSignCount: stored, requireUserVerification: false)
            }
            #expect(answer == .signCountNotIncreasing(stored: stored, received: 78))
        }
    }
}
