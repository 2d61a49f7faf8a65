/// Why a WebAuthn ceremony was refused: one case per check, each with a message for logs and the
/// audit trail. A sign-in answers every one of them the same way; only the log tells them apart.
public enum WebAuthnError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The credential JSON lacks a member, or one is not strict base64url.
    case malformedCredential(String)
    /// `id` and `rawId` differ.
    case credentialIDMismatch
    /// `type` is not `public-key`.
    case unsupportedCredentialType(String)
    /// clientDataJSON is not the JSON object WebAuthn describes.
    case malformedClientData(String)
    /// clientDataJSON's `type` is not the ceremony's.
    case wrongCeremonyType(expected: String, received: String)
    /// clientDataJSON's `challenge` is not the one issued.
    case challengeMismatch
    /// clientDataJSON's `origin` is none of the relying party's origins.
    case originNotAllowed(String)
    /// The ceremony ran in a cross-origin iframe, which is not allowed.
    case crossOriginNotAllowed(topOrigin: String?)
    /// The attestation object is not well-formed CBOR.
    case malformedCBOR(CBORError)
    /// The attestation object is CBOR but not a map of `fmt`, `attStmt` and `authData`.
    case malformedAttestationObject(String)
    /// The authenticator data is malformed or its flags contradict its contents.
    case malformedAuthenticatorData(String)
    /// The authenticator data was made for another relying party id.
    case rpIDHashMismatch
    /// The UP flag is clear: no user was present.
    case userNotPresent
    /// User verification was required and the UV flag is clear.
    case userNotVerified
    /// A registration whose authenticator data carries no credential.
    case missingAttestedCredentialData
    /// `rawId` is not the credential id in the authenticator data.
    case attestedCredentialIDMismatch
    /// The COSE public key is malformed.
    case malformedPublicKey(String)
    /// The key's algorithm or curve is not one accepted here.
    case unsupportedAlgorithm(String)
    /// The COSE `alg` does not fit the `kty`.
    case algorithmKeyTypeMismatch(algorithm: Int, keyType: Int)
    /// The key is well-formed but unusable (EC point off the curve, RSA modulus too small…).
    case invalidPublicKey(String)
    /// The attestation statement is malformed (`none` with members, `packed` without `sig`…).
    case malformedAttestationStatement(String)
    /// Packed self attestation names another algorithm than the credential key's.
    case attestationAlgorithmMismatch(statement: Int, credential: Int)
    /// Packed self attestation's signature does not verify with the credential key.
    case invalidAttestationSignature
    /// The assertion's signature does not verify with the stored public key.
    case invalidSignature
    /// The signature is valid but the sign count did not increase: the credential may be cloned.
    case signCountNotIncreasing(stored: UInt32, received: UInt32)

    /// What went wrong, for logs and audit records.
    public var description: String {
        switch self {
        case .malformedCredential(let reason): "malformed credential: \(reason)"
        case .credentialIDMismatch: "credential id and rawId differ"
        case .unsupportedCredentialType(let type): "credential type \(type.debugDescription) is not public-key"
        case .malformedClientData(let reason): "malformed clientDataJSON: \(reason)"
        case .wrongCeremonyType(let expected, let received): "clientDataJSON type is \(received.debugDescription), expected \(expected)"
        case .challengeMismatch: "clientDataJSON challenge is not the one issued"
        case .originNotAllowed(let origin): "origin \(origin.debugDescription) is not allowed"
        case .crossOriginNotAllowed(let topOrigin): "cross-origin ceremony (top origin \(topOrigin?.debugDescription ?? "unknown")) is not allowed"
        case .malformedCBOR(let error): "malformed attestation object: \(error.description)"
        case .malformedAttestationObject(let reason): "malformed attestation object: \(reason)"
        case .malformedAuthenticatorData(let reason): "malformed authenticator data: \(reason)"
        case .rpIDHashMismatch: "authenticator data is for another relying party id"
        case .userNotPresent: "user presence flag is not set"
        case .userNotVerified: "user verification is required but the user was not verified"
        case .missingAttestedCredentialData: "registration without attested credential data"
        case .attestedCredentialIDMismatch: "rawId is not the credential id in the authenticator data"
        case .malformedPublicKey(let reason): "malformed credential public key: \(reason)"
        case .unsupportedAlgorithm(let reason): "unsupported algorithm: \(reason)"
        case .algorithmKeyTypeMismatch(let algorithm, let keyType): "COSE algorithm \(algorithm) does not fit key type \(keyType)"
        case .invalidPublicKey(let reason): "invalid credential public key: \(reason)"
        case .malformedAttestationStatement(let reason): "malformed attestation statement: \(reason)"
        case .attestationAlgorithmMismatch(let statement, let credential):
            "self attestation algorithm \(statement) is not the credential key's \(credential)"
        case .invalidAttestationSignature: "self attestation signature does not verify"
        case .invalidSignature: "assertion signature does not verify"
        case .signCountNotIncreasing(let stored, let received): "sign count went from \(stored) to \(received): the credential may be cloned"
        }
    }
}
