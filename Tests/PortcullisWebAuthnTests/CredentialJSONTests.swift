import Foundation
import PortcullisCrypto
import PortcullisWebAuthn
import Testing

/// The Level 3 JSON encodings: options as python-fido2 writes them, credentials as browsers'
/// `toJSON()` posts them.
@Suite struct CredentialJSONTests {
    struct FidoOptions: Decodable {
        struct Inputs: Decodable {
            let rpId: String, rpName: String, userHandle: String, userName: String, displayName: String
            let challenge: String, credentialID: String, transports: [String]
        }
        let inputs: Inputs
    }

    static func fidoJSON(_ member: String) throws -> NSDictionary {
        let url = try #require(Bundle.module.url(forResource: "Vectors/python-fido2-options.json", withExtension: nil))
        let file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? NSDictionary)
        return try #require(file[member] as? NSDictionary)
    }

    static func ours(_ value: some Encodable) throws -> NSMutableDictionary {
        let json = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: json, options: .mutableContainers) as? NSMutableDictionary)
    }

    static func relyingParty() throws -> (WebAuthnRelyingParty, FidoOptions.Inputs) {
        let inputs = try fixture("python-fido2-options.json", as: FidoOptions.self).inputs
        return (WebAuthnRelyingParty(id: inputs.rpId, origins: ["https://\(inputs.rpId)"]), inputs)
    }

    @Test func creationOptionsAreWhatPythonFido2Writes() throws {
        let (rp, inputs) = try Self.relyingParty()
        let options = rp.creationOptions(
            rpName: inputs.rpName, userHandle: b64(inputs.userHandle), userName: inputs.userName, displayName: inputs.displayName,
            challenge: b64(inputs.challenge), timeout: 120_000,
            excludeCredentials: [PublicKeyCredentialDescriptorJSON(credentialID: b64(inputs.credentialID), transports: inputs.transports)])
        let json = try Self.ours(options)
        #expect(json["timeout"] as? Int == 120_000)
        json.removeObject(forKey: "timeout")
        #expect(json == (try Self.fidoJSON("creation")))
    }

    @Test func requestOptionsAreWhatPythonFido2Writes() throws {
        let (rp, inputs) = try Self.relyingParty()
        let options = rp.requestOptions(challenge: b64(inputs.challenge), timeout: nil,
                                        allowCredentials: [PublicKeyCredentialDescriptorJSON(credentialID: b64(inputs.credentialID), transports: inputs.transports)])
        #expect(try Self.ours(options) == (try Self.fidoJSON("request")))
    }

    @Test func optionsOfferTheThreeAlgorithmsAndLeaveOutEmptyTransports() throws {
        let rp = WebAuthnRelyingParty(id: "example.org", origins: ["https://example.org"])
        let options = rp.creationOptions(rpName: "Example", userHandle: [1], userName: "a", displayName: "A", challenge: [2], residentKey: .required)
        #expect(options.pubKeyCredParams.map(\.alg) == [-7, -8, -257])
        #expect(options.authenticatorSelection.residentKey == "required")
        #expect(options.authenticatorSelection.requireResidentKey)
        #expect(options.authenticatorSelection.userVerification == "preferred")
        #expect(options.attestation == "none")
        #expect(options.timeout == 300_000)
        let descriptor = try Self.ours(PublicKeyCredentialDescriptorJSON(credentialID: [9, 9]))
        #expect(descriptor == ["type": "public-key", "id": "CQk"])
    }

    /// A registration as Chrome's `toJSON()` posts it: the convenience members and extension
    /// outputs are there, `transports` sits in `response`.
    @Test func aBrowsersToJSONOutputIsAcceptedAsItIs() throws {
        let vector = try W3CVectors.named("none-es256")
        let credential = vector.registration.credential
        let posted = """
        {"id":"\(credential.id)","rawId":"\(credential.rawId)","type":"public-key","authenticatorAttachment":"platform",
         "response":{"clientDataJSON":"\(credential.response.clientDataJSON)","attestationObject":"\(credential.response.attestationObject!)",
           "authenticatorData":"AAAA","publicKey":"MFkw","publicKeyAlgorithm":-7,"transports":["internal","hybrid","internal","warp-drive"]},
         "clientExtensionResults":{"credProps":{"rk":true},"prf":{"enabled":false,"results":null},"n":[1.5,"x"]}}
        """
        let decoded = try JSONDecoder().decode(PublicKeyCredentialJSON.self, from: Data(posted.utf8))
        #expect(decoded.clientExtensionResults?["credProps"] == .object(["rk": .bool(true)]))
        #expect(decoded.authenticatorAttachment == "platform")
        let verified = try vector.register(decoded)
        // Unknown transports are dropped and repeats kept once, in order.
        #expect(verified.transports == ["internal", "hybrid"])
        // What it stores is read from the attestation object, not from the convenience members.
        #expect(verified.publicKey == vector.publicKey)
    }

    @Test func anAssertionWithAUserHandleAndNoExtensionResultsIsAccepted() throws {
        let vector = try W3CVectors.named("packed-eddsa")
        let credential = vector.authentication.credential
        let posted = """
        {"id":"\(credential.id)","rawId":"\(credential.rawId)","type":"public-key",
         "response":{"clientDataJSON":"\(credential.response.clientDataJSON)","authenticatorData":"\(credential.response.authenticatorData!)",
           "signature":"\(credential.response.signature!)","userHandle":"dXNlcg"}}
        """
        let verified = try vector.authenticate(try JSONDecoder().decode(PublicKeyCredentialJSON.self, from: Data(posted.utf8)))
        #expect(verified.userHandle == Array("user".utf8))
        let nullHandle = posted.replacingOccurrences(of: #""dXNlcg""#, with: "null")
        #expect(try vector.authenticate(try JSONDecoder().decode(PublicKeyCredentialJSON.self, from: Data(nullHandle.utf8))).userHandle == nil)
    }

    @Test func credentialsRoundTripThroughJSON() throws {
        let credential = try W3CVectors.named("packed-rs256").authentication.credential
        let again = try JSONDecoder().decode(PublicKeyCredentialJSON.self, from: JSONEncoder().encode(credential))
        #expect(again == credential)
    }
}
