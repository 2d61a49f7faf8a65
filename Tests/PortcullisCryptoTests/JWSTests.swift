import Foundation
import PortcullisCrypto
import Testing

@Suite struct RFCVectorTests {
    @Test func rfc7515AppendixA3ES256SignatureVerifies() throws {
        let vector = try KnownAnswers.load().es256
        let key = try SigningKey(jwk: vector.jwk)
        #expect(key.algorithm == .es256 && key.hasPrivateKey)
        let payload = try JWS.verify(vector.jws) { _ in key }
        #expect(String(decoding: payload, as: UTF8.self) == vector.payload)

        let publicOnly = try SigningKey(jwk: JWK(kty: "EC", crv: "P-256", x: vector.jwk.x, y: vector.jwk.y))
        #expect(throws: Never.self) { try JWS.verify(vector.jws) { _ in publicOnly } }
    }

    @Test func rfc7515AppendixA3KeySignsWhatItVerifies() throws {
        let vector = try KnownAnswers.load().es256
        let key = try SigningKey(jwk: vector.jwk)
        let signingInput = Array(vector.jws.split(separator: ".").prefix(2).joined(separator: ".").utf8)
        let signature = try key.sign(signingInput)
        #expect(signature.count == 64)
        #expect(key.verify(signature: signature, message: signingInput))
    }

    @Test func rfc8037AppendixAEd25519IsReproducedByteForByte() throws {
        let vector = try KnownAnswers.load().ed25519
        let key = try SigningKey(jwk: vector.jwk)
        #expect(key.algorithm == .edDSA)
        #expect(try key.publicJWK(kid: "k").x == vector.jwk.x)
        #expect(try key.thumbprint() == vector.thumbprint)
        let signed = try JWS.sign(payload: Array(vector.payload.utf8), header: JWSHeader(alg: "EdDSA"), key: key)
        #expect(signed == vector.jws)
        let publicOnly = try SigningKey(jwk: JWK(kty: "OKP", crv: "Ed25519", x: vector.jwk.x))
        #expect(try JWS.verify(vector.jws) { _ in publicOnly } == Array(vector.payload.utf8))
    }

    @Test func mismatchedPrivateAndPublicJWKMembersAreRejected() throws {
        let vectors = try KnownAnswers.load()
        var ed = vectors.ed25519.jwk
        ed.x = vectors.es256.jwk.x
        #expect(throws: CryptoError.self) { try SigningKey(jwk: ed) }
        var ec = vectors.es256.jwk
        ec.y = ec.x
        #expect(throws: CryptoError.self) { try SigningKey(jwk: ec) }
        var wrongAlg = vectors.es256.jwk
        wrongAlg.alg = "RS256"
        #expect(throws: CryptoError.self) { try SigningKey(jwk: wrongAlg) }
    }
}

@Suite struct AlgorithmPinningTests {
    let es256: SigningKey
    let edDSA: SigningKey
    let rs256: SigningKey

    init() throws {
        es256 = try SigningKey.generate(.es256)
        edDSA = try SigningKey.generate(.edDSA)
        rs256 = try SigningKey.generate(.rs256)
    }

    func token(_ header: String, _ payload: String = #"{"sub":"x"}"#, signature: [UInt8] = []) -> String {
        Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "." + Base64URL.encode(signature)
    }

    @Test func algNoneIsRejected() {
        #expect(throws: CryptoError.unsupportedAlgorithm("alg none is never accepted")) {
            try JWS.verify(token(#"{"alg":"none"}"#)) { _ in es256 }
        }
        #expect(throws: CryptoError.self) { try JWS.verify(token(#"{"alg":"None"}"#)) { _ in es256 } }
    }

    @Test func hs256SignedWithThePublicKeyIsRejected() throws {
        let pem = try es256.publicKeyPEM()
        let unsigned = token(#"{"alg":"HS256"}"#)
        let input = Array(unsigned.dropLast().utf8)
        let forged = String(unsigned.dropLast()) + "." + Base64URL.encode(HMAC.authenticationCode(.sha256, key: Array(pem.utf8), message: input))
        #expect(throws: CryptoError.self) { try JWS.verify(forged) { _ in es256 } }
    }

    @Test func algorithmOtherThanTheKeysIsRejected() throws {
        let edToken = try JWS.sign(payload: Array("{}".utf8), header: JWSHeader(alg: "EdDSA"), key: edDSA)
        #expect(throws: CryptoError.self) { try JWS.verify(edToken) { _ in es256 } }
        let rsToken = try JWS.sign(payload: Array("{}".utf8), header: JWSHeader(alg: "RS256"), key: rs256)
        #expect(throws: CryptoError.self) { try JWS.verify(rsToken) { _ in es256 } }
        // Relabelling an ES256 signature as ES384 does not get past the key's pin either.
        let esToken = try JWS.sign(payload: Array("{}".utf8), header: JWSHeader(alg: "ES256"), key: es256)
        let parts = esToken.split(separator: ".")
        let relabelled = Base64URL.encode(Array(#"{"alg":"ES384"}"#.utf8)) + "." + parts[1] + "." + parts[2]
        #expect(throws: CryptoError.self) { try JWS.verify(relabelled) { _ in es256 } }
        #expect(throws: CryptoError.self) { try JWS.sign(payload: [], header: JWSHeader(alg: "ES256"), key: edDSA) }
    }

    @Test func unknownKidIsRejected() throws {
        let signed = try JWS.sign(payload: Array("{}".utf8), header: JWSHeader(alg: "ES256", kid: "a"), key: es256)
        #expect(throws: CryptoError.invalidKey("unknown kid")) { try JWS.verify(signed) { _ in nil } }
    }

    @Test func tamperingWithPayloadOrSignatureIsDetected() throws {
        for key in [es256, edDSA, rs256] {
            let signed = try JWS.sign(payload: Array(#"{"admin":false}"#.utf8), header: JWSHeader(alg: key.algorithm.rawValue), key: key)
            #expect(throws: Never.self) { try JWS.verify(signed) { _ in key } }
            let parts = signed.split(separator: ".").map(String.init)
            let payload = Base64URL.encode(Array(#"{"admin":true}"#.utf8))
            #expect(throws: CryptoError.self) { try JWS.verify("\(parts[0]).\(payload).\(parts[2])") { _ in key } }
            var signature = Base64URL.decode(parts[2])!
            signature[signature.count / 2] ^= 0x01
            #expect(throws: CryptoError.self) { try JWS.verify("\(parts[0]).\(parts[1]).\(Base64URL.encode(signature))") { _ in key } }
            #expect(throws: CryptoError.self) { try JWS.verify("\(parts[0]).\(parts[1]).\(Base64URL.encode(signature.dropLast()))") { _ in key } }
        }
    }

    @Test func malformedCompactStringsAreRejected() throws {
        let cases = [
            "", "a.b", "a.b.c.d", "!!.e30.", token("not json"), token(#"{"typ":"JWT"}"#), token(#"{"alg":5}"#),
            token(#"{"alg":"ES256","crit":["exp"]}"#), "eyJhbGciOiJFUzI1NiJ9=.e30.AAAA",
            String(repeating: "A", count: 20_000) + ".e30.AA",
        ]
        for compact in cases {
            #expect(throws: CryptoError.self, "\(compact.prefix(30))") { try JWS.verify(compact) { _ in es256 } }
        }
    }
}
