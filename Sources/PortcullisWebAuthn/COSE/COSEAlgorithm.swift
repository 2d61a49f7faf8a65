/// The COSE signature algorithms (IANA COSE Algorithms registry) a credential may use here.
public enum COSEAlgorithm: Int, Sendable, Codable, CaseIterable {
    /// ECDSA with SHA-256 on P-256.
    case es256 = -7
    /// EdDSA; here only on Ed25519.
    case edDSA = -8
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    case rs256 = -257

    /// The COSE key type (`kty`) a key for this algorithm must have: 2 EC2, 1 OKP, 3 RSA.
    public var keyType: Int {
        switch self {
        case .es256: 2
        case .edDSA: 1
        case .rs256: 3
        }
    }
}
