import Foundation

/// The protected header of a JWS.
public struct JWSHeader: Codable, Sendable, Equatable {
    /// Algorithm named by the token (checked against the key, never trusted).
    public var alg: String
    /// Key id.
    public var kid: String?
    /// Media type (`at+jwt` for access tokens, `JWT` for ID tokens).
    public var typ: String?

    /// Creates a header.
    public init(alg: String, kid: String? = nil, typ: String? = nil) {
        self.alg = alg
        self.kid = kid
        self.typ = typ
    }
}

/// JWS compact serialization (RFC 7515) with the algorithm pinned to the key (RFC 8725).
public enum JWS {
    /// Largest compact JWS accepted for parsing.
    public static let maximumLength = 16 * 1024

    /// A parsed, not yet verified, compact JWS.
    public struct Parsed: Sendable {
        /// The decoded header.
        public let header: JWSHeader
        /// The decoded payload bytes.
        public let payload: [UInt8]
        /// ASCII `header.payload`, the bytes the signature covers.
        public let signingInput: [UInt8]
        /// The decoded signature bytes.
        public let signature: [UInt8]
    }

    /// Signs `payload` with `key` under `header`; `header.alg` must be the key's algorithm.
    public static func sign(payload: [UInt8], header: JWSHeader, key: SigningKey) throws -> String {
        guard header.alg == key.algorithm.rawValue else {
            throw CryptoError.unsupportedAlgorithm("header alg \(header.alg) does not match key \(key.algorithm.rawValue)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput = Base64URL.encode(Array(try encoder.encode(header))) + "." + Base64URL.encode(payload)
        let signature = try key.sign(Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Parses strictly: three base64url parts, a JSON header with a string `alg`, no `crit`
    /// (`JWSHeader(strictJSON:)`).
    public static func parse(_ compact: String) throws -> Parsed {
        guard compact.utf8.count <= maximumLength else { throw CryptoError.malformed("token too long") }
        // On the UTF-8 bytes: splitting the String itself walks grapheme clusters.
        let bytes = Array(compact.utf8)
        let dot = UInt8(ascii: ".")
        guard let first = bytes.firstIndex(of: dot), let second = bytes[(first + 1)...].firstIndex(of: dot),
              !bytes[(second + 1)...].contains(dot) else {
            throw CryptoError.malformed("expected three parts")
        }
        guard let headerBytes = Base64URL.decode(bytes: bytes[..<first]), let payload = Base64URL.decode(bytes: bytes[(first + 1)..<second]),
              let signature = Base64URL.decode(bytes: bytes[(second + 1)...]) else {
            throw CryptoError.malformed("not base64url")
        }
        let header = try JWSHeader(strictJSON: headerBytes)
        let signingInput = Array(bytes[..<second])
        return Parsed(header: header, payload: payload, signingInput: signingInput, signature: signature)
    }

    /// Verifies and returns the payload.
    ///
    /// `keyFor` picks the key from the header (normally by `kid`); the token's `alg` must be
    /// that key's algorithm, so `none`, HMAC and algorithm substitution are all rejected.
    public static func verify(_ compact: String, keyFor: (JWSHeader) -> SigningKey?) throws -> [UInt8] {
        try verify(try parse(compact), keyFor: keyFor)
    }

    /// Verifies a token parsed before and returns its payload (same rules as `verify(_:keyFor:)`).
    public static func verify(_ parsed: Parsed, keyFor: (JWSHeader) -> SigningKey?) throws -> [UInt8] {
        let alg = parsed.header.alg
        guard alg.lowercased() != "none", !alg.uppercased().hasPrefix("HS") else {
            throw CryptoError.unsupportedAlgorithm("alg \(alg) is never accepted")
        }
        guard let key = keyFor(parsed.header) else { throw CryptoError.invalidKey("unknown kid") }
        guard alg == key.algorithm.rawValue else {
            throw CryptoError.unsupportedAlgorithm("alg \(alg) does not match the key's \(key.algorithm.rawValue)")
        }
        guard key.verify(signature: parsed.signature, message: parsed.signingInput) else {
            throw CryptoError.malformed("signature")
        }
        return parsed.payload
    }
}
