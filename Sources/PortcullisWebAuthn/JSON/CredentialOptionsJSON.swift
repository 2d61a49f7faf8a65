import PortcullisCrypto

/// `PublicKeyCredentialCreationOptionsJSON` (WebAuthn Level 3 §5.1.9): what the page hands to
/// `PublicKeyCredential.parseCreationOptionsFromJSON()`. Member names are the spec's; binary
/// members base64url without padding; absent optionals are left out.
public struct PublicKeyCredentialCreationOptionsJSON: Codable, Sendable, Equatable {
    /// The relying party.
    public var rp: PublicKeyCredentialRpEntityJSON
    /// The account the credential is for.
    public var user: PublicKeyCredentialUserEntityJSON
    /// The challenge, base64url.
    public var challenge: String
    /// The algorithms accepted, in order of preference.
    public var pubKeyCredParams: [PublicKeyCredentialParametersJSON]
    /// Milliseconds the browser may wait.
    public var timeout: UInt32?
    /// Credentials the user already has, so the authenticator does not make a second.
    public var excludeCredentials: [PublicKeyCredentialDescriptorJSON]
    /// What kind of authenticator and credential.
    public var authenticatorSelection: AuthenticatorSelectionCriteriaJSON
    /// The attestation conveyance preference.
    public var attestation: String
}

/// `PublicKeyCredentialRequestOptionsJSON` (WebAuthn Level 3 §5.5.1): what the page hands to
/// `PublicKeyCredential.parseRequestOptionsFromJSON()`.
public struct PublicKeyCredentialRequestOptionsJSON: Codable, Sendable, Equatable {
    /// The challenge, base64url.
    public var challenge: String
    /// Milliseconds the browser may wait.
    public var timeout: UInt32?
    /// The RP ID.
    public var rpId: String
    /// The credentials that may answer; empty for a discoverable-credential sign-in.
    public var allowCredentials: [PublicKeyCredentialDescriptorJSON]
    /// The user verification requirement.
    public var userVerification: String
}

/// `PublicKeyCredentialRpEntity`.
public struct PublicKeyCredentialRpEntityJSON: Codable, Sendable, Equatable {
    /// The RP ID (a registrable domain suffix of the origin).
    public var id: String
    /// A name to show.
    public var name: String
}

/// `PublicKeyCredentialUserEntityJSON`.
public struct PublicKeyCredentialUserEntityJSON: Codable, Sendable, Equatable {
    /// The user handle, base64url (at most 64 random bytes; never an e-mail address).
    public var id: String
    /// The account name (e.g. the username).
    public var name: String
    /// A name to show.
    public var displayName: String
}

/// `PublicKeyCredentialParameters`.
public struct PublicKeyCredentialParametersJSON: Codable, Sendable, Equatable {
    /// Always `public-key`.
    public var type: String
    /// A COSE algorithm identifier.
    public var alg: Int
}

/// `PublicKeyCredentialDescriptorJSON`: one credential named to the browser.
public struct PublicKeyCredentialDescriptorJSON: Codable, Sendable, Equatable {
    /// Always `public-key`.
    public var type: String
    /// The credential id, base64url.
    public var id: String
    /// Transport hints from registration, when known.
    public var transports: [String]?

    /// Describes the credential `credentialID` with its transport hints (left out when empty).
    public init(credentialID: [UInt8], transports: [String] = []) {
        type = "public-key"
        id = Base64URL.encode(credentialID)
        self.transports = transports.isEmpty ? nil : transports
    }
}

/// `AuthenticatorSelectionCriteria`.
public struct AuthenticatorSelectionCriteriaJSON: Codable, Sendable, Equatable {
    /// `discouraged`, `preferred` or `required`.
    public var residentKey: String
    /// Level 1's boolean, kept for older browsers: true only when `residentKey` is `required`.
    public var requireResidentKey: Bool
    /// `discouraged`, `preferred` or `required`.
    public var userVerification: String
}

/// The three-valued requirements of WebAuthn (`ResidentKeyRequirement`, `UserVerificationRequirement`).
public enum WebAuthnRequirement: String, Sendable, Codable {
    /// Should not happen.
    case discouraged
    /// Wanted, not needed.
    case preferred
    /// Needed: the ceremony fails without it.
    case required
}
