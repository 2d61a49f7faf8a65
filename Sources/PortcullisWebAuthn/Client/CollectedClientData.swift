import Foundation
import PortcullisCrypto

/// The client data (WebAuthn §5.8.1): what the browser says about the ceremony, as the JSON it
/// serialised (`clientDataJSON`), whose SHA-256 the authenticator signs.
///
/// Parsed as JSON, never compared against a template: browsers add members (`crossOrigin`,
/// `topOrigin`, and others in future versions), which are ignored.
public struct CollectedClientData: Sendable, Equatable {
    /// The ceremony type.
    public enum CeremonyType: String, Sendable {
        /// Registration (`navigator.credentials.create`).
        case create = "webauthn.create"
        /// Authentication (`navigator.credentials.get`).
        case get = "webauthn.get"
    }

    /// `webauthn.create` or `webauthn.get` (any other string is kept, and refused by verification).
    public let type: String
    /// The challenge, decoded from base64url.
    public let challenge: [UInt8]
    /// The origin of the page that ran the ceremony.
    public let origin: String
    /// True when the ceremony ran in a cross-origin iframe.
    public let crossOrigin: Bool
    /// The top-level origin, meaningful only when `crossOrigin` is true.
    public let topOrigin: String?
    /// The JSON bytes as received.
    public let bytes: [UInt8]

    private struct Members: Decodable {
        let type: String
        let challenge: String
        let origin: String
        let crossOrigin: Bool?
        let topOrigin: String?
    }

    /// Parses clientDataJSON.
    public init(bytes: [UInt8]) throws(WebAuthnError) {
        let members: Members
        do { members = try JSONDecoder().decode(Members.self, from: Data(bytes)) } catch {
            throw .malformedClientData(Self.reason(error))
        }
        guard let challenge = Base64URL.decode(members.challenge) else {
            throw .malformedClientData("challenge is not base64url without padding")
        }
        self.type = members.type
        self.challenge = challenge
        self.origin = members.origin
        self.crossOrigin = members.crossOrigin ?? false
        self.topOrigin = members.topOrigin
        self.bytes = bytes
    }

    /// Checks the client data of one ceremony, in the order of WebAuthn §7.1 and §7.2: type,
    /// challenge (compared in constant time), origin (exactly one of `origins`), then refuses a
    /// cross-origin ceremony (`topOrigin` is only reported).
    func verify(_ ceremony: CeremonyType, challenge expected: [UInt8], origins: [String]) throws(WebAuthnError) {
        guard type == ceremony.rawValue else { throw .wrongCeremonyType(expected: ceremony.rawValue, received: type) }
        guard ConstantTime.equals(challenge, expected) else { throw .challengeMismatch }
        guard origins.contains(origin) else { throw .originNotAllowed(origin) }
        guard !crossOrigin else { throw .crossOriginNotAllowed(topOrigin: topOrigin) }
    }

    private static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _)?: "member \(key.stringValue) is missing"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            context.codingPath.isEmpty ? "not a JSON object" : "member \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        default: "not a JSON object"
        }
    }
}
