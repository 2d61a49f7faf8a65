/// The attestation object of a registration (WebAuthn §6.5.4): `fmt`, `attStmt` and `authData`.
public struct AttestationObject: Sendable {
    /// The attestation statement format (`none`, `packed`, `tpm`, …), as sent.
    public let format: String
    /// The attestation statement, a CBOR map whose shape depends on `format`.
    public let statement: CBORValue
    /// The authenticator data.
    public let authenticatorData: AuthenticatorData

    /// Parses an attestation object: one CBOR map, nothing after it.
    public init(bytes: [UInt8]) throws(WebAuthnError) {
        let value: CBORValue
        do { value = try CBORDecoder.decode(bytes) } catch { throw .malformedCBOR(error) }
        guard value.mapEntries != nil else { throw .malformedAttestationObject("not a CBOR map") }
        guard let format = value["fmt"]?.textString else { throw .malformedAttestationObject("fmt is missing or not text") }
        guard let statement = value["attStmt"], statement.mapEntries != nil else {
            throw .malformedAttestationObject("attStmt is missing or not a map")
        }
        guard let authData = value["authData"]?.byteString else { throw .malformedAttestationObject("authData is missing or not bytes") }
        self.format = format
        self.statement = statement
        self.authenticatorData = try AuthenticatorData(bytes: authData)
    }

    /// Checks the attestation statement and returns the format recorded for the credential.
    ///
    /// - `none`: the statement must be empty.
    /// - `packed` without `x5c` (self attestation): `alg` must be the credential key's and `sig`
    ///   must verify over authData ‖ SHA-256(clientDataJSON) with the credential key.
    /// - `packed` with `x5c`, and every other format (`fido-u2f`, `tpm`, `android-key`,
    ///   `android-safetynet`, `apple`, …): accepted as `none`. No trust path is claimed and the
    ///   statement is not checked; the format is only recorded. Portcullis does not decide which
    ///   authenticator models to trust, so a checked certificate chain would change nothing.
    func verifyStatement(credentialKey: COSEKey, clientDataHash: [UInt8]) throws(WebAuthnError) {
        switch format {
        case "none":
            guard statement.mapEntries?.isEmpty == true else { throw .malformedAttestationStatement("none with a non-empty attStmt") }
        case "packed" where statement["x5c"] == nil:
            guard statement["ecdaaKeyId"] == nil else { throw .malformedAttestationStatement("ECDAA attestation is not supported") }
            guard let alg = statement["alg"]?.integer else { throw .malformedAttestationStatement("packed without an integer alg") }
            guard let signature = statement["sig"]?.byteString else { throw .malformedAttestationStatement("packed without a sig byte string") }
            guard alg == credentialKey.algorithm.rawValue else {
                throw .attestationAlgorithmMismatch(statement: alg, credential: credentialKey.algorithm.rawValue)
            }
            guard credentialKey.verify(signature: signature, message: authenticatorData.bytes + clientDataHash) else {
                throw .invalidAttestationSignature
            }
        default:
            break
        }
    }
}
