internal import COpenSSL

/// One asymmetric key for one JWS algorithm, owning an OpenSSL `EVP_PKEY` (freed in `deinit`).
///
/// Immutable after creation, so it is safe to share between tasks.
public final class SigningKey: @unchecked Sendable {
    /// The only algorithm this key signs and verifies with.
    public let algorithm: JWSAlgorithm
    /// True when the private half is present (the key can sign).
    public let hasPrivateKey: Bool
    let pkey: OpaquePointer
    /// A context set up once to verify with this key (nil if that failed, and then every check
    /// fails: setting one up per check would fail the same way). A check copies it
    /// (`EVP_MD_CTX_copy_ex`, about 0.15 µs) instead of `EVP_DigestVerifyInit` on a new one
    /// (about 2.4 µs, mostly finding the algorithm's implementation). It is never changed after
    /// `init`, and copying only reads it, so checks on several threads may copy it at once.
    private let verifyTemplate: OpaquePointer?

    init(pkey: OpaquePointer, hasPrivateKey: Bool) throws {
        self.pkey = pkey
        self.hasPrivateKey = hasPrivateKey
        do {
            self.algorithm = try Self.algorithm(of: pkey)
        } catch {
            EVP_PKEY_free(pkey)
            throw error
        }
        verifyTemplate = Self.verifyContext(pkey: pkey, digest: Self.digest(for: algorithm))
    }

    deinit {
        EVP_MD_CTX_free(verifyTemplate)
        EVP_PKEY_free(pkey)
    }

    /// A new context initialised to verify with `pkey`, or nil.
    private static func verifyContext(pkey: OpaquePointer, digest: OpaquePointer?) -> OpaquePointer? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        guard EVP_DigestVerifyInit(context, nil, digest, nil, pkey) == 1 else {
            OpenSSLError.clear()
            EVP_MD_CTX_free(context)
            return nil
        }
        return context
    }

    /// A new random key for `algorithm` (RSA of `rsaBits`, at least 2048).
    public static func generate(_ algorithm: JWSAlgorithm, rsaBits: Int = 2048) throws -> SigningKey {
        let name: String
        switch algorithm {
        case .es256: name = "EC"
        case .edDSA: name = "ED25519"
        case .rs256:
            guard rsaBits >= 2048 else { throw CryptoError.invalidKey("RSA keys must have at least 2048 bits") }
            name = "RSA"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else { throw OpenSSLError.drain("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw OpenSSLError.drain("keygen init") }
        switch algorithm {
        case .es256:
            guard EVP_PKEY_CTX_set_group_name(context, "P-256") == 1 else { throw OpenSSLError.drain("set group") }
        case .rs256:
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(rsaBits)) == 1 else { throw OpenSSLError.drain("set bits") }
        case .edDSA:
            break
        }
        var pkey: OpaquePointer?
        guard EVP_PKEY_generate(context, &pkey) == 1, let pkey else { throw OpenSSLError.drain("keygen") }
        return try SigningKey(pkey: pkey, hasPrivateKey: true)
    }

    /// Loads a PEM key: a private key (PKCS#8 or traditional) or a public key (SPKI).
    public convenience init(pem: String) throws {
        let bytes = Array(pem.utf8)
        func read<T>(_ body: (OpaquePointer) -> T?) throws -> T? {
            guard let bio = bytes.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
                throw OpenSSLError.drain("BIO_new_mem_buf")
            }
            defer { BIO_free(bio) }
            return body(bio)
        }
        if let key = try read({ PEM_read_bio_PrivateKey($0, nil, nil, nil) }) {
            try self.init(pkey: key, hasPrivateKey: true)
        } else if let key = try read({ PEM_read_bio_PUBKEY($0, nil, nil, nil) }) {
            OpenSSLError.clear()
            try self.init(pkey: key, hasPrivateKey: false)
        } else {
            OpenSSLError.clear()
            throw CryptoError.invalidKey("not a PEM private or public key")
        }
    }

    /// The private key as PKCS#8 PEM.
    public func privateKeyPEM() throws -> String {
        guard hasPrivateKey else { throw CryptoError.invalidKey("public key only") }
        return try writePEM { PEM_write_bio_PrivateKey($0, pkey, nil, nil, 0, nil, nil) }
    }

    /// The public key as SPKI PEM.
    public func publicKeyPEM() throws -> String {
        try writePEM { PEM_write_bio_PUBKEY($0, pkey) }
    }

    /// The JWS signature of `message`: raw r‖s for ES256, Ed25519, or PKCS#1 v1.5 with SHA-256.
    public func sign(_ message: some Collection<UInt8>) throws -> [UInt8] {
        guard hasPrivateKey else { throw CryptoError.invalidKey("public key only: cannot sign") }
        let input = Array(message)
        guard let context = EVP_MD_CTX_new() else { throw OpenSSLError.drain("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, digest, nil, pkey) == 1 else { throw OpenSSLError.drain("sign init") }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, input, input.count) == 1 else { throw OpenSSLError.drain("sign size") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, input, input.count) == 1 else { throw OpenSSLError.drain("sign") }
        signature.removeLast(signature.count - length)
        return algorithm == .es256 ? try ECDSASignature.rawFromDER(signature) : signature
    }

    /// True only for a valid signature of `message` by this key; never throws.
    ///
    /// An ES256 signature is raw r‖s by default (JWS); `ecdsaFormat: .der` takes the ASN.1 DER
    /// form WebAuthn authenticators send, which OpenSSL checks strictly (it re-encodes the parsed
    /// signature and refuses any difference, such as a long-form length or a trailing byte).
    public func verify(signature: some Collection<UInt8>, message: some Collection<UInt8>, ecdsaFormat: ECDSASignatureFormat = .raw) -> Bool {
        var bytes = Array(signature)
        let input = Array(message)
        if algorithm == .es256, ecdsaFormat == .raw {
            guard bytes.count == 64, let der = ECDSASignature.derFromRaw(bytes) else { return false }
            bytes = der
        } else if algorithm == .edDSA, bytes.count != 64 {
            return false
        }
        guard !bytes.isEmpty, let verifyTemplate, let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_MD_CTX_copy_ex(context, verifyTemplate) == 1 else {
            OpenSSLError.clear()
            return false
        }
        let valid = EVP_DigestVerify(context, bytes, bytes.count, input, input.count) == 1
        if !valid { OpenSSLError.clear() }
        return valid
    }

    private var digest: OpaquePointer? { Self.digest(for: algorithm) }

    private static func digest(for algorithm: JWSAlgorithm) -> OpaquePointer? {
        algorithm == .edDSA ? nil : HashAlgorithm.sha256.evp
    }

    private func writePEM(_ body: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLError.drain("BIO_new") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw OpenSSLError.drain("PEM write") }
        let pending = Int(BIO_ctrl_pending(bio))
        var buffer = [UInt8](repeating: 0, count: pending)
        guard BIO_read(bio, &buffer, Int32(pending)) == Int32(pending) else { throw OpenSSLError.drain("BIO_read") }
        return String(decoding: buffer, as: UTF8.self)
    }

    private static func algorithm(of pkey: OpaquePointer) throws -> JWSAlgorithm {
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(pkey, &name, name.count, &length) == 1 else { throw OpenSSLError.drain("group name") }
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard group == "prime256v1" || group == "P-256" else { throw CryptoError.unsupportedAlgorithm("EC curve \(group)") }
            return .es256
        case EVP_PKEY_ED25519:
            return .edDSA
        case EVP_PKEY_RSA:
            guard EVP_PKEY_get_bits(pkey) >= 2048 else { throw CryptoError.invalidKey("RSA keys must have at least 2048 bits") }
            return .rs256
        default:
            throw CryptoError.unsupportedAlgorithm("key type \(EVP_PKEY_get_base_id(pkey))")
        }
    }
}

/// How an ECDSA signature is laid out.
public enum ECDSASignatureFormat: Sendable {
    /// r‖s, each 32 bytes (JWS, RFC 7518 section 3.4).
    case raw
    /// ASN.1 DER `Ecdsa-Sig-Value` (WebAuthn assertions and packed attestation, X.509).
    case der
}

/// ES256 signatures: JWS wants raw r‖s (RFC 7518 section 3.4), OpenSSL speaks DER.
enum ECDSASignature {
    static func rawFromDER(_ der: [UInt8]) throws -> [UInt8] {
        var pointer: UnsafePointer<UInt8>? = der.withUnsafeBufferPointer { $0.baseAddress }
        let parsed = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            pointer = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &pointer, buffer.count)
        }
        guard let parsed else { throw OpenSSLError.drain("d2i_ECDSA_SIG") }
        defer { ECDSA_SIG_free(parsed) }
        var r: OpaquePointer?, s: OpaquePointer?
        ECDSA_SIG_get0(parsed, &r, &s)
        var raw = [UInt8](repeating: 0, count: 64)
        guard let r, let s,
              raw.withUnsafeMutableBufferPointer({ BN_bn2binpad(r, $0.baseAddress, 32) == 32 && BN_bn2binpad(s, $0.baseAddress! + 32, 32) == 32 })
        else { throw CryptoError.malformed("ECDSA signature component too large") }
        return raw
    }

    static func derFromRaw(_ raw: [UInt8]) -> [UInt8]? {
        guard raw.count == 64, let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        guard let r = BN_bin2bn(raw, 32, nil) else { return nil }
        guard let s = raw.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress! + 32, 32, nil) }) else {
            BN_free(r)
            return nil
        }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? der : nil
    }
}
