import PortcullisCrypto
import PortcullisWebAuthn
import Testing

/// The W3C WebAuthn Level 3 test vectors (section 16): both ceremonies of every example, as a
/// relying party for `example.org` at `https://example.org` must answer them.
@Suite struct W3CVectorTests {
    @Test func theSpecVectorsAreAllThere() {
        #expect(W3CVectors.all.count == 15)
        #expect(Set(W3CVectors.all.map(\.coseAlg)).isSuperset(of: [-7, -8, -257]))
        #expect(Set(W3CVectors.all.map(\.fmt)) == ["none", "packed", "tpm", "android-key", "apple", "fido-u2f"])
    }

    @Test(arguments: W3CVectors.all)
    func registrationGivesTheSpecsCredential(vector: W3CVectors.Vector) throws {
        let expected = vector.registration.expected
        if let error = expected.error {
            #expect(refusal { try vector.register() }.map(caseName) == error)
            return
        }
        let verified = try vector.register()
        #expect(verified.credentialID == b64(vector.registration.credential.rawId))
        #expect(verified.publicKey == b64(try #require(expected.credentialPublicKey)))
        #expect(verified.algorithm == vector.coseAlg)
        #expect(verified.aaguid == hex(try #require(expected.aaguid)))
        #expect(verified.signCount == expected.signCount)
        #expect(verified.userVerified == expected.userVerified)
        #expect(verified.backupEligible == expected.backupEligible)
        #expect(verified.backedUp == expected.backedUp)
        #expect(verified.attestationFormat == vector.fmt)
        #expect(verified.transports == [])
    }

    @Test(arguments: W3CVectors.all)
    func authenticationVerifiesTheSpecsAssertion(vector: W3CVectors.Vector) throws {
        let expected = vector.authentication.expected
        if let error = expected.error {
            // The ES384/ES512/Ed448 keys cannot be stored, so their assertions cannot be checked either.
            let answer = refusal {
                try WebAuthnRelyingParty(id: vector.rpId, origins: [vector.origin]).verifyAuthentication(
                    vector.authentication.credential, expectedChallenge: b64(vector.authentication.challenge),
                    credentialPublicKey: Self.registeredKey(vector), storedSignCount: 0, requireUserVerification: false)
            }
            #expect(answer.map(caseName) == error)
            return
        }
        let verified = try vector.authenticate()
        #expect(verified.credentialID == b64(vector.registration.credential.rawId))
        #expect(verified.signCount == expected.signCount)
        #expect(verified.userVerified == expected.userVerified)
        #expect(verified.backupEligible == expected.backupEligible)
        #expect(verified.backedUp == expected.backedUp)
        #expect(verified.userHandle == nil)
    }

    /// The credential public key as it sits in the registration's authenticator data (for the
    /// vectors whose registration is refused, so `expected` does not carry it).
    static func registeredKey(_ vector: W3CVectors.Vector) throws -> [UInt8] {
        let object = try CBORDecoder.decode(b64(try #require(vector.registration.credential.response.attestationObject)))
        let authData = try #require(object["authData"]?.byteString)
        let idLength = Int(authData[53]) << 8 | Int(authData[54])
        return Array(authData[(55 + idLength)...])
    }

    @Test func selfAttestationIsCheckedAndRecordedAsPacked() throws {
        let vector = try W3CVectors.named("packed-self-es256")
        let statement = try #require(try CBORDecoder.decode(b64(vector.registration.credential.response.attestationObject!))["attStmt"])
        #expect(statement["x5c"] == nil)
        #expect(statement["alg"]?.integer == -7)
        #expect(try vector.register().attestationFormat == "packed")
    }

    @Test func theLongestCredentialIDIsAccepted() throws {
        let vector = try W3CVectors.named("none-es256-long-credential-id")
        #expect(try vector.register().credentialID.count == AttestedCredentialData.maximumCredentialIDLength)
    }
}
