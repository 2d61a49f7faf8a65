import PortcullisCrypto

/// A credential as `PublicKeyCredential.toJSON()` serialises it (WebAuthn Level 3
/// `RegistrationResponseJSON` / `AuthenticationResponseJSON`): every binary member base64url
/// without padding. python-fido2's `dict(RegistrationResponse)` has the same shape.
///
/// Members this library does not need are decoded when present and otherwise ignored; the
/// registration response's convenience members (`authenticatorData`, `publicKey`,
/// `publicKeyAlgorithm`) are never trusted: everything is read from `attestationObject`.
public struct PublicKeyCredentialJSON: Codable, Sendable, Equatable {
    /// The credential id, base64url; must be the same string as `rawId`.
    public var id: String
    /// The credential id, base64url.
    public var rawId: String
    /// Always `public-key`.
    public var type: String
    /// The authenticator's response.
    public var response: Response
    /// `platform` or `cross-platform`, when the browser says.
    public var authenticatorAttachment: String?
    /// Client extension outputs (e.g. `credProps`); kept as JSON.
    public var clientExtensionResults: [String: JSONValue]?

    /// `AuthenticatorAttestationResponseJSON` and `AuthenticatorAssertionResponseJSON` in one.
    public struct Response: Codable, Sendable, Equatable {
        /// clientDataJSON, base64url (both ceremonies).
        public var clientDataJSON: String
        /// The attestation object, base64url (registration).
        public var attestationObject: String?
        /// Transport hints (registration).
        public var transports: [String]?
        /// Authenticator data, base64url (authentication; a convenience copy in registration).
        public var authenticatorData: String?
        /// SPKI public key, base64url (registration convenience; not used).
        public var publicKey: String?
        /// COSE algorithm (registration convenience; not used).
        public var publicKeyAlgorithm: Int?
        /// The assertion signature, base64url (authentication).
        public var signature: String?
        /// The user handle, base64url (authentication, discoverable credentials).
        public var userHandle: String?

        /// A response with the given members.
        public init(clientDataJSON: String, attestationObject: String? = nil, transports: [String]? = nil, authenticatorData: String? = nil,
                    publicKey: String? = nil, publicKeyAlgorithm: Int? = nil, signature: String? = nil, userHandle: String? = nil) {
            self.clientDataJSON = clientDataJSON
            self.attestationObject = attestationObject
            self.transports = transports
            self.authenticatorData = authenticatorData
            self.publicKey = publicKey
            self.publicKeyAlgorithm = publicKeyAlgorithm
            self.signature = signature
            self.userHandle = userHandle
        }
    }

    /// A credential with the given members.
    public init(id: String, rawId: String, type: String = "public-key", response: Response, authenticatorAttachment: String? = nil,
                clientExtensionResults: [String: JSONValue]? = [:]) {
        self.id = id
        self.rawId = rawId
        self.type = type
        self.response = response
        self.authenticatorAttachment = authenticatorAttachment
        self.clientExtensionResults = clientExtensionResults
    }

    /// The credential id. Rule: `id` and `rawId` must be the same string, and that string strict
    /// base64url (no padding, no other alphabet, no stray bits); anything else is refused.
    public func credentialID() throws(WebAuthnError) -> [UInt8] {
        guard type == "public-key" else { throw .unsupportedCredentialType(type) }
        guard id == rawId else { throw .credentialIDMismatch }
        let bytes = try Self.decode(rawId, "rawId")
        guard !bytes.isEmpty else { throw .malformedCredential("rawId is empty") }
        return bytes
    }

    /// Decodes a required base64url member.
    static func decode(_ text: String?, _ name: String) throws(WebAuthnError) -> [UInt8] {
        guard let text else { throw .malformedCredential("\(name) is missing") }
        guard let bytes = Base64URL.decode(text) else { throw .malformedCredential("\(name) is not base64url without padding") }
        return bytes
    }
}

/// Any JSON value, for members whose content this library only carries (extension outputs).
public indirect enum JSONValue: Codable, Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// Decodes whichever JSON value comes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes the value as it is.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
