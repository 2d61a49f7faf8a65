/// The authenticator data (WebAuthn §6.1): what the authenticator signs besides the client data.
///
/// Parsing is strict: the flags must agree with what follows (AT ⇔ attested credential data,
/// ED ⇔ extensions), BS needs BE, and nothing may follow the last part.
public struct AuthenticatorData: Sendable {
    /// The flags byte.
    public struct Flags: OptionSet, Sendable, Hashable {
        /// The raw byte.
        public let rawValue: UInt8
        /// Wraps a raw flags byte.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// UP: a user was present.
        public static let userPresent = Flags(rawValue: 0x01)
        /// UV: the user was verified (PIN, biometrics…).
        public static let userVerified = Flags(rawValue: 0x04)
        /// BE: the credential may be backed up (synced).
        public static let backupEligible = Flags(rawValue: 0x08)
        /// BS: the credential is backed up now.
        public static let backedUp = Flags(rawValue: 0x10)
        /// AT: attested credential data follows.
        public static let attestedCredentialData = Flags(rawValue: 0x40)
        /// ED: extension data follows.
        public static let extensionData = Flags(rawValue: 0x80)
    }

    /// SHA-256 of the RP ID the credential is scoped to.
    public let rpIDHash: [UInt8]
    /// The flags.
    public let flags: Flags
    /// The signature counter (0 when the authenticator keeps none).
    public let signCount: UInt32
    /// The new credential, present in registrations (AT).
    public let attestedCredentialData: AttestedCredentialData?
    /// Authenticator extension outputs, a CBOR map (ED).
    public let extensions: CBORValue?
    /// The bytes as received: signatures cover them.
    public let bytes: [UInt8]

    /// The fixed part: rpIdHash (32), flags (1) and signCount (4).
    static let headerLength = 37

    /// Parses authenticator data.
    public init(bytes: [UInt8]) throws(WebAuthnError) {
        guard bytes.count >= Self.headerLength else {
            throw .malformedAuthenticatorData("\(bytes.count) bytes, at least \(Self.headerLength) needed")
        }
        self.bytes = bytes
        rpIDHash = Array(bytes[0..<32])
        flags = Flags(rawValue: bytes[32])
        signCount = bytes[33..<37].reduce(0) { $0 << 8 | UInt32($1) }
        if flags.contains(.backedUp), !flags.contains(.backupEligible) {
            throw .malformedAuthenticatorData("backup state (BS) set on a credential that is not backup eligible (BE)")
        }
        var rest = bytes[Self.headerLength...]
        if flags.contains(.attestedCredentialData) {
            let (data, length) = try AttestedCredentialData.parse(rest)
            attestedCredentialData = data
            rest = rest.dropFirst(length)
        } else {
            attestedCredentialData = nil
        }
        if flags.contains(.extensionData) {
            let decoded: (value: CBORValue, length: Int)
            do { decoded = try CBORDecoder.decodePrefix(rest) } catch {
                throw .malformedAuthenticatorData("extensions: \(error.description)")
            }
            guard decoded.value.mapEntries != nil else { throw .malformedAuthenticatorData("extensions are not a CBOR map") }
            extensions = decoded.value
            rest = rest.dropFirst(decoded.length)
        } else {
            extensions = nil
        }
        guard rest.isEmpty else {
            throw .malformedAuthenticatorData("\(rest.count) bytes follow the last part its flags announce")
        }
    }
}

/// A registration's new credential (WebAuthn §6.5.1): AAGUID, credential id and public key.
public struct AttestedCredentialData: Sendable {
    /// The authenticator model (16 bytes; zeros when not disclosed).
    public let aaguid: [UInt8]
    /// The credential id (1 to 1023 bytes).
    public let credentialID: [UInt8]
    /// The credential public key, checked, with its COSE bytes.
    public let publicKey: COSEKey

    /// The longest credential id WebAuthn allows.
    public static let maximumCredentialIDLength = 1023

    /// Parses the attested credential data at the start of `bytes`; returns it with its length.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(WebAuthnError) -> (AttestedCredentialData, Int) {
        guard bytes.count >= 18 else { throw .malformedAuthenticatorData("attested credential data flagged (AT) but truncated") }
        let start = bytes.startIndex
        let aaguid = Array(bytes[start..<start + 16])
        let idLength = Int(bytes[start + 16]) << 8 | Int(bytes[start + 17])
        guard idLength >= 1, idLength <= maximumCredentialIDLength else {
            throw .malformedAuthenticatorData("credential id length \(idLength) is outside 1…\(maximumCredentialIDLength)")
        }
        guard bytes.count >= 18 + idLength else { throw .malformedAuthenticatorData("credential id runs past the end") }
        let credentialID = Array(bytes[start + 18..<start + 18 + idLength])
        let keyBytes = bytes[(start + 18 + idLength)...]
        let decoded: (value: CBORValue, length: Int)
        do { decoded = try CBORDecoder.decodePrefix(keyBytes) } catch {
            throw .malformedPublicKey(error.description)
        }
        let keyEncoding = Array(keyBytes.prefix(decoded.length))
        let key = try COSEKey(value: decoded.value, bytes: keyEncoding)
        return (AttestedCredentialData(aaguid: aaguid, credentialID: credentialID, publicKey: key), 18 + idLength + decoded.length)
    }
}
