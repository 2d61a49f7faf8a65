import PortcullisCrypto

/// What a verified authentication yields: the new counter and flags to store, and the user
/// handle for a discoverable-credential sign-in.
public struct VerifiedAuthentication: Sendable, Equatable {
    /// The credential id that signed.
    public let credentialID: [UInt8]
    /// The signature counter the authenticator reported.
    public let signCount: UInt32
    /// UV: the user was verified.
    public let userVerified: Bool
    /// BE: the credential may be synced.
    public let backupEligible: Bool
    /// BS: the credential is synced now.
    public let backedUp: Bool
    /// The user handle the authenticator returned, if any; the caller checks it names the owner.
    public let userHandle: [UInt8]?
}

extension WebAuthnRelyingParty {
    /// Verifies an authentication ceremony (WebAuthn §7.2), in this order: parsing, clientDataJSON
    /// type `webauthn.get`, challenge, origin (and not cross-origin), RP ID hash, UP, UV when
    /// required, the signature over authenticatorData ‖ SHA-256(clientDataJSON) with OpenSSL, and
    /// only then the counter: when either count is non-zero the new one must be greater, else
    /// `signCountNotIncreasing` (the signature was valid, so the caller may flag the credential
    /// as possibly cloned).
    ///
    /// - Parameters:
    ///   - credential: the browser's `PublicKeyCredential.toJSON()`.
    ///   - expectedChallenge: the challenge this ceremony was issued with.
    ///   - credentialPublicKey: the COSE key stored at registration for `credential`'s id.
    ///   - storedSignCount: the counter stored for it.
    ///   - requireUserVerification: refuse unless the UV flag is set.
    public func verifyAuthentication(_ credential: PublicKeyCredentialJSON, expectedChallenge: [UInt8], credentialPublicKey: [UInt8],
                                     storedSignCount: UInt32, requireUserVerification: Bool) throws(WebAuthnError) -> VerifiedAuthentication {
        let credentialID = try credential.credentialID()
        let key = try COSEKey(bytes: credentialPublicKey)
        let authenticatorData = try PublicKeyCredentialJSON.decode(credential.response.authenticatorData, "authenticatorData")
        let signature = try PublicKeyCredentialJSON.decode(credential.response.signature, "signature")
        var userHandle: [UInt8]?
        if let handle = credential.response.userHandle {
            let bytes = try PublicKeyCredentialJSON.decode(handle, "userHandle")
            userHandle = bytes.isEmpty ? nil : bytes
        }
        let data = try AuthenticatorData(bytes: authenticatorData)
        let clientData = try verifiedClientData(credential, .get, challenge: expectedChallenge)
        try verifyFlags(data, requireUserVerification: requireUserVerification)
        guard key.verify(signature: signature, message: data.bytes + Digest.sha256(clientData.bytes)) else { throw .invalidSignature }
        if storedSignCount != 0 || data.signCount != 0, data.signCount <= storedSignCount {
            throw .signCountNotIncreasing(stored: storedSignCount, received: data.signCount)
        }
        return VerifiedAuthentication(credentialID: credentialID, signCount: data.signCount, userVerified: data.flags.contains(.userVerified),
                                      backupEligible: data.flags.contains(.backupEligible), backedUp: data.flags.contains(.backedUp),
                                      userHandle: userHandle)
    }
}
