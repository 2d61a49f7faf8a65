import Foundation
import PortcullisCrypto
import PortcullisWebAuthn
import Testing

/// Each check of both ceremonies, failed on its own: real spec credentials with one thing wrong.
@Suite struct CeremonyRefusalTests {
    let none: W3CVectors.Vector
    let selfAttested: W3CVectors.Vector

    init() throws {
        none = try W3CVectors.named("none-es256")
        selfAttested = try W3CVectors.named("packed-self-es256")
    }

    @Test func aWrongOriginIsRefused() {
        // Exact comparison: scheme, host and port, nothing normalised.
        for origins in [["https://example.com"], ["http://example.org"], ["https://example.org:443"], ["https://example.org/"], []] {
            let rp = WebAuthnRelyingParty(id: "example.org", origins: origins)
            #expect(refusal { try none.register(rp: rp) } == .originNotAllowed("https://example.org"))
            #expect(refusal { try none.authenticate(rp: rp) } == .originNotAllowed("https://example.org"))
        }
    }

    @Test func anExtraConfiguredOriginIsAccepted() throws {
        let rp = WebAuthnRelyingParty(id: "example.org", origins: ["https://login.example.org", "https://example.org"])
        #expect(try none.register(rp: rp).credentialID.count == 32)
        #expect(try none.authenticate(rp: rp).signCount == 0)
    }

    @Test func aWrongRPIDIsRefused() {
        let rp = WebAuthnRelyingParty(id: "example.com", origins: ["https://example.org"])
        #expect(refusal { try none.register(rp: rp) } == .rpIDHashMismatch)
        #expect(refusal { try none.authenticate(rp: rp) } == .rpIDHashMismatch)
    }

    @Test func aWrongChallengeIsRefused() {
        let registration = b64(none.registration.challenge), authentication = b64(none.authentication.challenge)
        for challenge in [flipping(registration, at: 0), Array(registration.dropLast()), registration + [0], []] {
            #expect(refusal { try none.register(challenge: challenge) } == .challengeMismatch)
        }
        #expect(refusal { try none.authenticate(challenge: flipping(authentication, at: -1)) } == .challengeMismatch)
        // A registration's challenge does not open a sign-in.
        #expect(refusal { try none.authenticate(challenge: registration) } == .challengeMismatch)
    }

    @Test func theOtherCeremonysClientDataIsRefused() {
        var registration = none.registration.credential
        registration.response.clientDataJSON = none.authentication.credential.response.clientDataJSON
        #expect(refusal { try none.register(registration, challenge: b64(none.authentication.challenge)) }
            == .wrongCeremonyType(expected: "webauthn.create", received: "webauthn.get"))
        let assertion = none.authentication.credential.with(clientDataJSON: b64(none.registration.credential.response.clientDataJSON))
        #expect(refusal { try none.authenticate(assertion, challenge: b64(none.registration.challenge)) }
            == .wrongCeremonyType(expected: "webauthn.get", received: "webauthn.create"))
    }

    @Test func aFlippedSignatureByteIsRefused() throws {
        for name in ["none-es256", "packed-rs256", "packed-eddsa"] {
            let vector = try W3CVectors.named(name)
            let signature = b64(vector.authentication.credential.response.signature!)
            for index in [-1, signature.count / 2] {
                let forged = vector.authentication.credential.with(signature: flipping(signature, at: index))
                #expect(refusal { try vector.authenticate(forged) } == .invalidSignature, "\(name) byte \(index)")
            }
            // The signature covers the authenticator data too: a raised counter breaks it.
            let data = b64(vector.authentication.credential.response.authenticatorData!)
            #expect(refusal { try vector.authenticate(vector.authentication.credential.with(authenticatorData: flipping(data, at: -1))) } == .invalidSignature)
        }
    }

    @Test func anAssertionSignedByAnotherKeyIsRefused() throws {
        let other = try W3CVectors.named("packed-es256")
        let rp = none.relyingParty
        #expect(refusal {
            try rp.verifyAuthentication(none.authentication.credential, expectedChallenge: b64(none.authentication.challenge),
                                        credentialPublicKey: other.publicKey, storedSignCount: 0, requireUserVerification: false)
        } == .invalidSignature)
    }

    @Test func userPresenceIsRequired() throws {
        // The none registration carries no signature: clearing UP in its authenticator data is enough.
        let object = try CBORDecoder.decode(b64(none.registration.credential.response.attestationObject!))
        let authData = try #require(object["authData"]?.byteString)
        let absent = cbor(object.setting(.text("authData"), .bytes(flipping(authData, at: 32))))
        #expect(refusal { try none.register(none.registration.credential.with(attestationObject: absent)) } == .userNotPresent)
        // In an assertion UP is checked before the signature (which the change breaks as well).
        let data = b64(none.authentication.credential.response.authenticatorData!)
        #expect(refusal { try none.authenticate(none.authentication.credential.with(authenticatorData: flipping(data, at: 32))) } == .userNotPresent)
    }

    @Test func userVerificationIsRequiredOnlyWhenAsked() throws {
        // none-es256 has UV clear in both ceremonies; packed-self-es256 has it set at registration.
        #expect(refusal { try none.register(requireUserVerification: true) } == .userNotVerified)
        #expect(refusal { try none.authenticate(requireUserVerification: true) } == .userNotVerified)
        #expect(try none.register(requireUserVerification: false).userVerified == false)
        #expect(try selfAttested.register(requireUserVerification: true).userVerified)
        let verified = try W3CVectors.named("none-es256-long-credential-id")
        #expect(try verified.authenticate(requireUserVerification: true).userVerified)
    }

    @Test func counterRuleAcceptsBothZeroAndRefusesGoingBackwards() throws {
        // The spec's authenticators keep no counter: 0 after 0 is fine.
        #expect(try none.authenticate(storedSignCount: 0).signCount == 0)
        // A stored count above the received 0 is a counter that went backwards, reported after a valid signature.
        #expect(refusal { try none.authenticate(storedSignCount: 1) } == .signCountNotIncreasing(stored: 1, received: 0))
    }

    @Test func idAndRawIdMustBeTheSameBase64URL() {
        var credential = none.registration.credential
        credential.id = Base64URL.encode(flipping(b64(credential.rawId), at: 0))
        #expect(refusal { try none.register(credential) } == .credentialIDMismatch)
        // Standard base64 or padding is not base64url, even when both members agree.
        credential.id = Data(b64(none.registration.credential.rawId)).base64EncodedString()
        credential.rawId = credential.id
        #expect(refusal { try none.register(credential) }.map(caseName) == "malformedCredential")
        var assertion = none.authentication.credential
        assertion.rawId = assertion.rawId + "A"
        #expect(refusal { try none.authenticate(assertion) } == .credentialIDMismatch)
        assertion = none.authentication.credential
        assertion.type = "password"
        #expect(refusal { try none.authenticate(assertion) } == .unsupportedCredentialType("password"))
    }

    @Test func rawIdMustBeTheAttestedCredentialID() {
        var credential = none.registration.credential
        credential.rawId = Base64URL.encode(flipping(b64(credential.rawId), at: 0))
        credential.id = credential.rawId
        #expect(refusal { try none.register(credential) } == .attestedCredentialIDMismatch)
    }

    @Test func packedSelfAttestationWithAWrongSignatureIsRefused() throws {
        let object = try CBORDecoder.decode(b64(selfAttested.registration.credential.response.attestationObject!))
        let statement = try #require(object["attStmt"])
        let signature = try #require(statement["sig"]?.byteString)
        let forged = cbor(object.setting(.text("attStmt"), statement.setting(.text("sig"), .bytes(flipping(signature, at: -1)))))
        #expect(refusal { try selfAttested.register(selfAttested.registration.credential.with(attestationObject: forged)) } == .invalidAttestationSignature)
        let otherAlgorithm = cbor(object.setting(.text("attStmt"), statement.setting(.text("alg"), .int(-8))))
        #expect(refusal { try selfAttested.register(selfAttested.registration.credential.with(attestationObject: otherAlgorithm)) }
            == .attestationAlgorithmMismatch(statement: -8, credential: -7))
        let unsigned = cbor(object.setting(.text("attStmt"), statement.setting(.text("sig"), nil)))
        #expect(refusal { try selfAttested.register(selfAttested.registration.credential.with(attestationObject: unsigned)) }.map(caseName)
            == "malformedAttestationStatement")
        // Unchanged, the same bytes re-encoded pass: the refusals above come from the one change each.
        #expect(try selfAttested.register(selfAttested.registration.credential.with(attestationObject: cbor(object))).attestationFormat == "packed")
    }

    @Test func noneAttestationMustHaveAnEmptyStatement() throws {
        let object = try CBORDecoder.decode(b64(none.registration.credential.response.attestationObject!))
        let filled = cbor(object.setting(.text("attStmt"), .map([CBORMapEntry(key: .text("alg"), value: .int(-7))])))
        #expect(refusal { try none.register(none.registration.credential.with(attestationObject: filled)) }
            == .malformedAttestationStatement("none with a non-empty attStmt"))
    }

    @Test func anUnknownFormatIsAcceptedAsNoneAndRecorded() throws {
        let object = try CBORDecoder.decode(b64(none.registration.credential.response.attestationObject!))
        let renamed = cbor(object.setting(.text("fmt"), .text("not-a-real-format")).setting(.text("attStmt"), .map([CBORMapEntry(key: .text("x"), value: .null)])))
        #expect(try none.register(none.registration.credential.with(attestationObject: renamed)).attestationFormat == "not-a-real-format")
    }

    @Test func malformedAttestationObjectsAreRefused() throws {
        let bytes = b64(none.registration.credential.response.attestationObject!)
        let credential = none.registration.credential
        #expect(refusal { try none.register(credential.with(attestationObject: bytes + [0])) } == .malformedCBOR(.trailingBytes(offset: bytes.count, count: 1)))
        #expect(refusal { try none.register(credential.with(attestationObject: Array(bytes.dropLast()))) }.map(caseName) == "malformedCBOR")
        let indefinite = [0xBF] + bytes.dropFirst() + [0xFF]
        #expect(refusal { try none.register(credential.with(attestationObject: indefinite)) } == .malformedCBOR(.indefiniteLength(offset: 0)))
        let object = try CBORDecoder.decode(bytes)
        let withoutAuthData = cbor(object.setting(.text("authData"), nil))
        #expect(refusal { try none.register(credential.with(attestationObject: withoutAuthData)) } == .malformedAttestationObject("authData is missing or not bytes"))
        #expect(refusal { try none.register(credential.with(attestationObject: cbor(.array([])))) } == .malformedAttestationObject("not a CBOR map"))
        var missing = credential
        missing.response.attestationObject = nil
        #expect(refusal { try none.register(missing) } == .malformedCredential("attestationObject is missing"))
    }

    @Test func aRegistrationWithoutACredentialIsRefused() throws {
        let object = try CBORDecoder.decode(b64(none.registration.credential.response.attestationObject!))
        let authData = try #require(object["authData"]?.byteString)
        let bare = cbor(object.setting(.text("authData"), .bytes(Array(authData.prefix(32)) + [0x01] + authData[33..<37])))
        #expect(refusal { try none.register(none.registration.credential.with(attestationObject: bare)) } == .missingAttestedCredentialData)
    }

    @Test func malformedClientDataIsRefused() {
        let cases: [(String, String)] = [
            (#"{"type":"webauthn.get","origin":"https://example.org"}"#, "member challenge is missing"),
            (#"{"type":"webauthn.get","challenge":"AA==","origin":"https://example.org"}"#, "challenge is not base64url without padding"),
            (#"{"type":"webauthn.get","challenge":7,"origin":"https://example.org"}"#, "member challenge has the wrong type"),
            (#"["webauthn.get"]"#, "not a JSON object"),
            ("", "not a JSON object"),
        ]
        for (json, reason) in cases {
            let credential = none.authentication.credential.with(clientDataJSON: Array(json.utf8))
            #expect(refusal { try none.authenticate(credential) } == .malformedClientData(reason), "\(json)")
        }
    }

    @Test func errorsHaveMessagesForTheLog() {
        #expect(WebAuthnError.signCountNotIncreasing(stored: 5, received: 3).description == "sign count went from 5 to 3: the credential may be cloned")
        #expect(WebAuthnError.originNotAllowed("https://evil.example").description == #"origin "https://evil.example" is not allowed"#)
        #expect(WebAuthnError.malformedCBOR(.tooDeep(limit: 16)).description == "malformed attestation object: CBOR nesting deeper than 16 levels")
    }
}
