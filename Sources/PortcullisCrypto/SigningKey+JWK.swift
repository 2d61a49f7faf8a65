internal import COpenSSL
import Foundation

extension SigningKey {
    /// The public JWK with `kid`, `alg` and `use: sig`; never private members.
    public func publicJWK(kid: String) throws -> JWK {
        var jwk = try publicMembers()
        jwk.kid = kid
        jwk.alg = algorithm.rawValue
        jwk.use = "sig"
        return jwk
    }

    /// RFC 7638 thumbprint: base64url SHA-256 of the required public members in lexicographic order.
    public func thumbprint() throws -> String {
        let jwk = try publicMembers()
        let canonical: String
        switch algorithm {
        case .es256: canonical = #"{"crv":"\#(jwk.crv!)","kty":"EC","x":"\#(jwk.x!)","y":"\#(jwk.y!)"}"#
        case .edDSA: canonical = #"{"crv":"Ed25519","kty":"OKP","x":"\#(jwk.x!)"}"#
        case .rs256: canonical = #"{"e":"\#(jwk.e!)","kty":"RSA","n":"\#(jwk.n!)"}"#
        }
        return Base64URL.encode(Digest.sha256(canonical))
    }

    /// Imports a JWK (EC P-256, OKP Ed25519 or RSA), public or private.
    public convenience init(jwk: JWK) throws {
        func member(_ value: String?, _ name: String) throws -> [UInt8] {
            guard let value, let bytes = Base64URL.decode(value), !bytes.isEmpty else {
                throw CryptoError.invalidKey("JWK member \(name) missing or not base64url")
            }
            return bytes
        }
        let expected: JWSAlgorithm
        let pkey: OpaquePointer
        let isPrivate = jwk.d != nil
        switch (jwk.kty, jwk.crv) {
        case ("EC", "P-256"):
            expected = .es256
            let x = try member(jwk.x, "x"), y = try member(jwk.y, "y")
            guard x.count == 32, y.count == 32 else { throw CryptoError.invalidKey("P-256 coordinates must be 32 bytes") }
            var builder = try ParameterBuilder()
            try builder.utf8("group", "prime256v1")
            try builder.octets("pub", [0x04] + x + y)
            if isPrivate { try builder.bignum("priv", try member(jwk.d, "d")) }
            pkey = try builder.makeKey(type: "EC", isPrivate: isPrivate)
        case ("OKP", "Ed25519"):
            expected = .edDSA
            let x = try member(jwk.x, "x")
            guard x.count == 32 else { throw CryptoError.invalidKey("Ed25519 keys are 32 bytes") }
            if isPrivate {
                let d = try member(jwk.d, "d")
                guard d.count == 32, let key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, d, 32) else {
                    throw OpenSSLError.drain("Ed25519 private key")
                }
                pkey = key
            } else {
                guard let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, x, 32) else { throw OpenSSLError.drain("Ed25519 public key") }
                pkey = key
            }
        case ("RSA", _):
            expected = .rs256
            var builder = try ParameterBuilder()
            try builder.bignum("n", try member(jwk.n, "n"))
            try builder.bignum("e", try member(jwk.e, "e"))
            if isPrivate {
                try builder.bignum("d", try member(jwk.d, "d"))
                if jwk.p != nil {
                    try builder.bignum("rsa-factor1", try member(jwk.p, "p"))
                    try builder.bignum("rsa-factor2", try member(jwk.q, "q"))
                    try builder.bignum("rsa-exponent1", try member(jwk.dp, "dp"))
                    try builder.bignum("rsa-exponent2", try member(jwk.dq, "dq"))
                    try builder.bignum("rsa-coefficient1", try member(jwk.qi, "qi"))
                }
            }
            pkey = try builder.makeKey(type: "RSA", isPrivate: isPrivate)
        default:
            throw CryptoError.unsupportedAlgorithm("JWK kty \(jwk.kty) crv \(jwk.crv ?? "-")")
        }
        try self.init(pkey: pkey, hasPrivateKey: isPrivate)
        if let alg = jwk.alg, alg != expected.rawValue {
            throw CryptoError.unsupportedAlgorithm("JWK alg \(alg) does not fit a \(jwk.kty) key")
        }
        // The private half must belong to the stated public half, and EC points must be on the curve.
        if let x = jwk.x, try publicMembers().x != x {
            throw CryptoError.invalidKey("JWK public member does not match the private key")
        }
        if algorithm == .es256 {
            guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw OpenSSLError.drain("check context") }
            defer { EVP_PKEY_CTX_free(context) }
            guard EVP_PKEY_public_check(context) == 1 else {
                OpenSSLError.clear()
                throw CryptoError.invalidKey("EC point is not on P-256")
            }
            guard !hasPrivateKey || EVP_PKEY_pairwise_check(context) == 1 else {
                OpenSSLError.clear()
                throw CryptoError.invalidKey("EC private key does not match its public point")
            }
        }
    }

    private func publicMembers() throws -> JWK {
        switch algorithm {
        case .es256:
            return JWK(kty: "EC", crv: "P-256", x: Base64URL.encode(try bignum("qx", pad: 32)), y: Base64URL.encode(try bignum("qy", pad: 32)))
        case .edDSA:
            var length = 32
            var raw = [UInt8](repeating: 0, count: 32)
            guard EVP_PKEY_get_raw_public_key(pkey, &raw, &length) == 1, length == 32 else { throw OpenSSLError.drain("raw public key") }
            return JWK(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(raw))
        case .rs256:
            return JWK(kty: "RSA", n: Base64URL.encode(try bignum("n", pad: nil)), e: Base64URL.encode(try bignum("e", pad: nil)))
        }
    }

    private func bignum(_ name: String, pad: Int?) throws -> [UInt8] {
        var number: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &number) == 1, let number else { throw OpenSSLError.drain("get \(name)") }
        defer { BN_free(number) }
        let length = pad ?? Int((BN_num_bits(number) + 7) / 8)
        var bytes = [UInt8](repeating: 0, count: length)
        guard BN_bn2binpad(number, &bytes, Int32(length)) == Int32(length) else { throw CryptoError.invalidKey("\(name) too large") }
        return bytes
    }
}

/// Builds an `OSSL_PARAM` array and turns it into a key with `EVP_PKEY_fromdata`.
private struct ParameterBuilder {
    let builder: OpaquePointer
    var numbers: [OpaquePointer] = []
    var strings: [UnsafeMutablePointer<CChar>] = []
    var buffers: [UnsafeMutableRawPointer] = []

    init() throws {
        guard let builder = OSSL_PARAM_BLD_new() else { throw OpenSSLError.drain("OSSL_PARAM_BLD_new") }
        self.builder = builder
    }

    /// OSSL_PARAM_BLD keeps the key-name pointer until `to_param`, so names are copied and kept alive too.
    mutating func name(_ key: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(key)!
        strings.append(copy)
        return copy
    }

    mutating func utf8(_ key: String, _ value: String) throws {
        let copy = strdup(value)!
        strings.append(copy)
        guard OSSL_PARAM_BLD_push_utf8_string(builder, name(key), copy, 0) == 1 else { throw OpenSSLError.drain("push \(key)") }
    }

    mutating func octets(_ key: String, _ value: [UInt8]) throws {
        let copy = UnsafeMutableRawPointer.allocate(byteCount: value.count, alignment: 1)
        copy.copyMemory(from: value, byteCount: value.count)
        buffers.append(copy)
        guard OSSL_PARAM_BLD_push_octet_string(builder, name(key), copy, value.count) == 1 else { throw OpenSSLError.drain("push \(key)") }
    }

    mutating func bignum(_ key: String, _ value: [UInt8]) throws {
        guard let number = BN_bin2bn(value, Int32(value.count), nil) else { throw OpenSSLError.drain("BN_bin2bn") }
        numbers.append(number)
        guard OSSL_PARAM_BLD_push_BN(builder, name(key), number) == 1 else { throw OpenSSLError.drain("push \(key)") }
    }

    func makeKey(type: String, isPrivate: Bool) throws -> OpaquePointer {
        defer {
            OSSL_PARAM_BLD_free(builder)
            numbers.forEach { BN_clear_free($0) }
            strings.forEach { free($0) }
            buffers.forEach { $0.deallocate() }
        }
        guard let params = OSSL_PARAM_BLD_to_param(builder) else { throw OpenSSLError.drain("OSSL_PARAM_BLD_to_param") }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw OpenSSLError.drain("context \(type)") }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer?
        let selection = isPrivate ? portcullis_selection_keypair() : portcullis_selection_public_key()
        guard EVP_PKEY_fromdata_init(context) == 1, EVP_PKEY_fromdata(context, &pkey, selection, params) == 1, let pkey else {
            throw OpenSSLError.drain("OpenSSL rejected the \(type) key parameters")
        }
        return pkey
    }
}
