import PortcullisCrypto

/// One relying party: its RP ID and the origins its pages are served from. Builds the options a
/// page passes to the browser and verifies what comes back (`verifyRegistration`,
/// `verifyAuthentication`). Pure: no store, no clock, no network; keeping challenges, credentials
/// and counters is the caller's job.
///
/// ```swift
/// let rp = WebAuthnRelyingParty(id: "example.org", origins: ["https://example.org"])
/// let options = rp.creationOptions(rpName: "Example", userHandle: handle, userName: "alice",
///                                  displayName: "Alice", challenge: challenge)
/// // … the browser answers with credential.toJSON() …
/// let passkey = try rp.verifyRegistration(credential, expectedChallenge: challenge, requireUserVerification: false)
/// ```
public struct WebAuthnRelyingParty: Sendable {
    /// The RP ID: the domain credentials are scoped to.
    public let id: String
    /// The origins a ceremony may come from, compared exactly (scheme, host and port).
    public let origins: [String]
    /// The algorithms offered at registration, in order of preference.
    public static let algorithms: [COSEAlgorithm] = [.es256, .edDSA, .rs256]
    let rpIDHash: [UInt8]

    /// A relying party with RP ID `id` whose pages are served from `origins` (the issuer's
    /// origin and any configured extra ones).
    public init(id: String, origins: [String]) {
        self.id = id
        self.origins = origins
        self.rpIDHash = Digest.sha256(id)
    }

    /// The options of a registration ceremony: ES256, EdDSA and RS256 offered, attestation
    /// `none`, resident key and user verification `preferred` unless told otherwise.
    public func creationOptions(rpName: String, userHandle: [UInt8], userName: String, displayName: String, challenge: [UInt8],
                                timeout: UInt32? = 300_000, excludeCredentials: [PublicKeyCredentialDescriptorJSON] = [],
                                residentKey: WebAuthnRequirement = .preferred,
                                userVerification: WebAuthnRequirement = .preferred) -> PublicKeyCredentialCreationOptionsJSON {
        PublicKeyCredentialCreationOptionsJSON(
            rp: PublicKeyCredentialRpEntityJSON(id: id, name: rpName),
            user: PublicKeyCredentialUserEntityJSON(id: Base64URL.encode(userHandle), name: userName, displayName: displayName),
            challenge: Base64URL.encode(challenge),
            pubKeyCredParams: Self.algorithms.map { PublicKeyCredentialParametersJSON(type: "public-key", alg: $0.rawValue) },
            timeout: timeout,
            excludeCredentials: excludeCredentials,
            authenticatorSelection: AuthenticatorSelectionCriteriaJSON(
                residentKey: residentKey.rawValue, requireResidentKey: residentKey == .required, userVerification: userVerification.rawValue),
            attestation: "none")
    }

    /// The options of an authentication ceremony; an empty `allowCredentials` lets the browser
    /// offer any discoverable credential for this RP ID.
    public func requestOptions(challenge: [UInt8], timeout: UInt32? = 300_000, allowCredentials: [PublicKeyCredentialDescriptorJSON] = [],
                               userVerification: WebAuthnRequirement = .preferred) -> PublicKeyCredentialRequestOptionsJSON {
        PublicKeyCredentialRequestOptionsJSON(challenge: Base64URL.encode(challenge), timeout: timeout, rpId: id,
                                              allowCredentials: allowCredentials, userVerification: userVerification.rawValue)
    }

    /// The checks both ceremonies make of the authenticator data: RP ID hash (constant time), UP,
    /// and UV when required.
    func verifyFlags(_ data: AuthenticatorData, requireUserVerification: Bool) throws(WebAuthnError) {
        guard ConstantTime.equals(data.rpIDHash, rpIDHash) else { throw .rpIDHashMismatch }
        guard data.flags.contains(.userPresent) else { throw .userNotPresent }
        guard !requireUserVerification || data.flags.contains(.userVerified) else { throw .userNotVerified }
    }

    /// clientDataJSON decoded, parsed and checked for `ceremony`.
    func verifiedClientData(_ credential: PublicKeyCredentialJSON, _ ceremony: CollectedClientData.CeremonyType,
                            challenge: [UInt8]) throws(WebAuthnError) -> CollectedClientData {
        let clientData = try CollectedClientData(bytes: PublicKeyCredentialJSON.decode(credential.response.clientDataJSON, "clientDataJSON"))
        try clientData.verify(ceremony, challenge: challenge, origins: origins)
        return clientData
    }
}
