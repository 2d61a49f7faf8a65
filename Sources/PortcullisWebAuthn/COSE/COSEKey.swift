import PortcullisCrypto

/// A credential public key in COSE_Key form (RFC 9052 section 7, WebAuthn §6.5.1.1), checked and
/// loaded into OpenSSL.
///
/// Accepted: EC2 P-256 with ES256 (32-byte x and y, the point on the curve), OKP Ed25519 with
/// EdDSA, and RSA with RS256 (a modulus of at least 2048 bits and an odd public exponent above 1).
/// `alg` is required, as WebAuthn requires it; a key that carries private members is refused.
/// `bytes` keeps the encoding exactly as received: it is what gets stored and parsed again at
/// each sign-in.
public struct COSEKey: Sendable {
    /// The key's algorithm (its `alg` parameter).
    public let algorithm: COSEAlgorithm
    /// The COSE_Key bytes as received.
    public let bytes: [UInt8]
    let key: SigningKey

    /// 16384 bits, OpenSSL's limit for RSA verification.
    static let maximumRSAModulusBytes = 2048

    /// Parses `bytes`, which must be exactly one CBOR map (stored keys, read back at sign-in).
    public init(bytes: [UInt8]) throws(WebAuthnError) {
        let value: CBORValue
        do { value = try CBORDecoder.decode(bytes) } catch { throw .malformedPublicKey(error.description) }
        try self.init(value: value, bytes: bytes)
    }

    /// Checks a decoded COSE_Key map whose encoding is `bytes`.
    init(value: CBORValue, bytes: [UInt8]) throws(WebAuthnError) {
        guard value.mapEntries != nil else { throw .malformedPublicKey("a COSE key is a CBOR map") }
        guard let keyType = value[1]?.integer else { throw .malformedPublicKey("COSE key has no integer kty (1)") }
        guard let label = value[3]?.integer else { throw .malformedPublicKey("COSE key has no integer alg (3)") }
        guard let algorithm = COSEAlgorithm(rawValue: label) else {
            throw .unsupportedAlgorithm("COSE algorithm \(label) (accepted: -7 ES256, -8 EdDSA, -257 RS256)")
        }
        guard keyType == algorithm.keyType else { throw .algorithmKeyTypeMismatch(algorithm: label, keyType: keyType) }
        let jwk: JWK
        switch algorithm {
        case .es256:
            try Self.requireCurve(value, 1, "P-256")
            try Self.refusePrivate(value, -4)
            let x = try Self.octets(value, -2, "x", count: 32), y = try Self.octets(value, -3, "y", count: 32)
            jwk = JWK(kty: "EC", crv: "P-256", x: Base64URL.encode(x), y: Base64URL.encode(y))
        case .edDSA:
            try Self.requireCurve(value, 6, "Ed25519")
            try Self.refusePrivate(value, -4)
            jwk = JWK(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(try Self.octets(value, -2, "x", count: 32)))
        case .rs256:
            try Self.refusePrivate(value, -3)
            let modulus = try Self.octets(value, -1, "n", count: nil), exponent = try Self.octets(value, -2, "e", count: nil)
            // OpenSSL refuses to verify with a modulus past 16384 bits (OPENSSL_RSA_MAX_MODULUS_BITS):
            // such a key could be stored but would never sign anyone in.
            guard modulus.drop(while: { $0 == 0 }).count <= Self.maximumRSAModulusBytes else {
                throw .invalidPublicKey("RSA modulus larger than \(Self.maximumRSAModulusBytes * 8) bits")
            }
            let significant = exponent.drop(while: { $0 == 0 })
            guard let low = significant.last, low & 1 == 1, significant.count > 1 || low > 1 else {
                throw .invalidPublicKey("RSA public exponent must be odd and greater than 1")
            }
            jwk = JWK(kty: "RSA", n: Base64URL.encode(modulus), e: Base64URL.encode(exponent))
        }
        do {
            key = try SigningKey(jwk: jwk)
        } catch {
            throw .invalidPublicKey(Self.reason(error))
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// True only when `signature` is this key's valid signature of `message` (ES256 in DER, as
    /// authenticators send it). Checked by OpenSSL.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        key.verify(signature: signature, message: message, ecdsaFormat: .der)
    }

    private static func requireCurve(_ value: CBORValue, _ curve: Int, _ name: String) throws(WebAuthnError) {
        guard let crv = value[-1]?.integer else { throw .malformedPublicKey("COSE key has no integer crv (-1)") }
        guard crv == curve else { throw .unsupportedAlgorithm("COSE curve \(crv) (this key type needs \(curve), \(name))") }
    }

    private static func refusePrivate(_ value: CBORValue, _ label: Int) throws(WebAuthnError) {
        guard value[label] == nil else { throw .malformedPublicKey("COSE key carries private key material (label \(label))") }
    }

    private static func octets(_ value: CBORValue, _ label: Int, _ name: String, count: Int?) throws(WebAuthnError) -> [UInt8] {
        guard let bytes = value[label]?.byteString, !bytes.isEmpty else {
            throw .malformedPublicKey("COSE key member \(name) (\(label)) missing or not a byte string")
        }
        if let count, bytes.count != count { throw .malformedPublicKey("COSE key member \(name) must be \(count) bytes, not \(bytes.count)") }
        return bytes
    }

    private static func reason(_ error: any Error) -> String {
        switch error as? CryptoError {
        case .invalidKey(let message)?, .unsupportedAlgorithm(let message)?, .malformed(let message)?: message
        case .openSSL(let message)?: "OpenSSL refused the key: \(message)"
        default: "\(error)"
        }
    }
}
