/// A JSON Web Key (RFC 7517), public or private. Encoding omits absent members.
public struct JWK: Codable, Sendable, Equatable {
    /// Key type: `EC`, `OKP` or `RSA`.
    public var kty: String
    /// Curve: `P-256` or `Ed25519`.
    public var crv: String?
    /// EC x coordinate or OKP public key (base64url).
    public var x: String?
    /// EC y coordinate (base64url).
    public var y: String?
    /// RSA modulus (base64url).
    public var n: String?
    /// RSA public exponent (base64url).
    public var e: String?
    /// Private key: EC/OKP private scalar or RSA private exponent (base64url).
    public var d: String?
    /// RSA first prime factor.
    public var p: String?
    /// RSA second prime factor.
    public var q: String?
    /// RSA first factor CRT exponent.
    public var dp: String?
    /// RSA second factor CRT exponent.
    public var dq: String?
    /// RSA CRT coefficient.
    public var qi: String?
    /// Key id.
    public var kid: String?
    /// The one algorithm the key is for.
    public var alg: String?
    /// Intended use (`sig`).
    public var use: String?

    /// Creates a JWK; RSA CRT members can be set afterwards.
    public init(kty: String, crv: String? = nil, x: String? = nil, y: String? = nil, n: String? = nil, e: String? = nil, d: String? = nil, kid: String? = nil, alg: String? = nil, use: String? = nil) {
        self.kty = kty
        self.crv = crv
        self.x = x
        self.y = y
        self.n = n
        self.e = e
        self.d = d
        self.kid = kid
        self.alg = alg
        self.use = use
    }
}

/// A JWK Set (RFC 7517 section 5), as served at `/.well-known/jwks.json`.
public struct JWKSet: Codable, Sendable, Equatable {
    /// The keys.
    public var keys: [JWK]

    /// A set of `keys`.
    public init(keys: [JWK]) {
        self.keys = keys
    }
}

/// The JWS algorithms Portcullis signs and verifies with.
public enum JWSAlgorithm: String, Sendable, Codable, CaseIterable {
    /// ECDSA P-256 with SHA-256 (RFC 7518).
    case es256 = "ES256"
    /// Ed25519 (RFC 8037).
    case edDSA = "EdDSA"
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518).
    case rs256 = "RS256"
}
