import PortcullisCrypto

/// What a verified registration yields: everything the caller stores for the new passkey.
public struct VerifiedRegistration: Sendable, Equatable {
    /// The credential id (1 to 1023 bytes).
    public let credentialID: [UInt8]
    /// The credential public key, COSE_Key bytes as the authenticator sent them.
    public let publicKey: [UInt8]
    /// The COSE algorithm (-7, -8 or -257).
    public let algorithm: Int
    /// The signature counter at registration.
    public let signCount: UInt32
    /// Transport hints, only the values WebAuthn defines, each once.
    public let transports: [String]
    /// BE: the credential may be synced.
    public let backupEligible: Bool
    /// BS: the credential is synced now.
    public let backedUp: Bool
    /// UV: the user was verified.
    public let userVerified: Bool
    /// The authenticator model's AAGUID (16 bytes; zeros when not disclosed).
    public let aaguid: [UInt8]
    /// The attestation statement format as sent (`none`, `packed`, …); only `packed` self
    /// attestation is checked, the rest is accepted as `none`.
    public let attestationFormat: String
}

extension WebAuthnRelyingParty {
    /// The transports WebAuthn Level 3 defines (`AuthenticatorTransport`); others are dropped.
    static let knownTransports: Set<String> = ["usb", "nfc", "ble", "smart-card", "hybrid", "internal"]

    /// Verifies a registration ceremony (WebAuthn §7.1): the credential JSON, clientDataJSON
    /// (type `webauthn.create`, the challenge, an allowed origin, not cross-origin), the
    /// attestation object (RP ID hash, UP, UV when required, attested credential data whose id is
    /// `rawId`, a supported public key) and its statement (see `AttestationObject`).
    ///
    /// - Parameters:
    ///   - credential: the browser's `PublicKeyCredential.toJSON()`.
    ///   - expectedChallenge: the challenge this ceremony was issued with.
    ///   - requireUserVerification: refuse unless the UV flag is set.
    public func verifyRegistration(_ credential: PublicKeyCredentialJSON, expectedChallenge: [UInt8],
                                   requireUserVerification: Bool) throws(WebAuthnError) -> VerifiedRegistration {
        let credentialID = try credential.credentialID()
        let clientData = try verifiedClientData(credential, .create, challenge: expectedChallenge)
        let attestation = try AttestationObject(bytes: PublicKeyCredentialJSON.decode(credential.response.attestationObject, "attestationObject"))
        let data = attestation.authenticatorData
        try verifyFlags(data, requireUserVerification: requireUserVerification)
        guard let attested = data.attestedCredentialData else { throw .missingAttestedCredentialData }
        guard attested.credentialID == credentialID else { throw .attestedCredentialIDMismatch }
        try attestation.verifyStatement(credentialKey: attested.publicKey, clientDataHash: Digest.sha256(clientData.bytes))
        var transports: [String] = []
        for transport in credential.response.transports ?? [] where Self.knownTransports.contains(transport) && !transports.contains(transport) {
            transports.append(transport)
        }
        return VerifiedRegistration(
            credentialID: credentialID, publicKey: attested.publicKey.bytes, algorithm: attested.publicKey.algorithm.rawValue,
            signCount: data.signCount, transports: transports, backupEligible: data.flags.contains(.backupEligible),
            backedUp: data.flags.contains(.backedUp), userVerified: data.flags.contains(.userVerified), aaguid: attested.aaguid,
            attestationFormat: attestation.format)
    }
}
