import Foundation
import PortcullisCrypto
import Testing

@Suite struct SigningKeyTests {
    @Test(arguments: JWSAlgorithm.allCases)
    func pemAndJWKRoundTripsSignAndVerify(algorithm: JWSAlgorithm) throws {
        let key = try SigningKey.generate(algorithm)
        let reloaded = try SigningKey(pem: try key.privateKeyPEM())
        #expect(reloaded.algorithm == algorithm && reloaded.hasPrivateKey)
        #expect(try reloaded.thumbprint() == (try key.thumbprint()))
        let fromPublicPEM = try SigningKey(pem: try key.publicKeyPEM())
        #expect(fromPublicPEM.hasPrivateKey == false)
        #expect(throws: CryptoError.self) { try fromPublicPEM.privateKeyPEM() }
        #expect(throws: CryptoError.self) { try fromPublicPEM.sign([1, 2, 3]) }
        let fromJWK = try SigningKey(jwk: try key.publicJWK(kid: "k1"))

        let message = Array("message".utf8)
        let signature = try reloaded.sign(message)
        #expect(fromPublicPEM.verify(signature: signature, message: message))
        #expect(fromJWK.verify(signature: signature, message: message))
        #expect(fromJWK.verify(signature: signature, message: Array("massage".utf8)) == false)
        #expect(try SigningKey.generate(algorithm).verify(signature: signature, message: message) == false)
    }

    /// Every check copies one context the key set up once: checks running at once on many
    /// threads, good and bad interleaved, each get their own answer, and a failed check leaves
    /// nothing behind for the next.
    @Test(arguments: JWSAlgorithm.allCases)
    func checksAtOnceOnManyThreadsEachGetTheirOwnAnswer(algorithm: JWSAlgorithm) async throws {
        let key = try SigningKey.generate(algorithm)
        let verifier = try SigningKey(pem: try key.publicKeyPEM())
        let messages = (0..<16).map { Array("message \($0)".utf8) }
        let signatures = try messages.map { try key.sign($0) }
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for thread in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for round in 0..<(algorithm == .rs256 ? 10 : 60) {
                        let index = (thread + round) % messages.count
                        // Odd rounds check a signature against the next message: never valid.
                        let message = round % 2 == 0 ? messages[index] : messages[(index + 1) % messages.count]
                        if verifier.verify(signature: signatures[index], message: message) != (round % 2 == 0) { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }

    @Test func publicJWKCarriesKidAlgAndUseButNoPrivateMembers() throws {
        for algorithm in JWSAlgorithm.allCases {
            let jwk = try SigningKey.generate(algorithm).publicJWK(kid: "kid-1")
            #expect(jwk.kid == "kid-1" && jwk.alg == algorithm.rawValue && jwk.use == "sig")
            #expect(jwk.d == nil && jwk.p == nil && jwk.q == nil)
            let encoded = String(decoding: try JSONEncoder().encode(jwk), as: UTF8.self)
            #expect(!encoded.contains("\"d\""))
        }
        let ec = try SigningKey.generate(.es256).publicJWK(kid: "k")
        #expect(Base64URL.decode(ec.x!)?.count == 32 && Base64URL.decode(ec.y!)?.count == 32)
    }

    @Test func weakOrForeignKeysAreRefused() throws {
        let rejected = try RejectedKeys.load()
        #expect(throws: CryptoError.self) { try SigningKey(pem: rejected.p384) }
        #expect(throws: CryptoError.self) { try SigningKey(pem: rejected.rsa1024) }
        #expect(throws: CryptoError.self) { try SigningKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }
        #expect(throws: CryptoError.self) { try SigningKey.generate(.rs256, rsaBits: 1024) }
    }

    @Test func ecdsaSignaturesOfWrongLengthNeverVerify() throws {
        let key = try SigningKey.generate(.es256)
        let message = Array("m".utf8)
        let signature = try key.sign(message)
        #expect(key.verify(signature: signature, message: message))
        #expect(key.verify(signature: signature + [0], message: message) == false)
        #expect(key.verify(signature: [UInt8](repeating: 0, count: 64), message: message) == false)
        #expect(key.verify(signature: [], message: message) == false)
    }

    @Test func derECDSASignaturesVerifyOnlyWhenAskedForAndOnlyInStrictDER() throws {
        let key = try SigningKey.generate(.es256)
        let message = Array("webauthn".utf8)
        let raw = try key.sign(message)
        // ASN.1 SEQUENCE of two INTEGERs, each minimal and non-negative (X9.62), written by hand.
        func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var value = Array(bytes.drop { $0 == 0 })
            if value.isEmpty || value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return [0x02, UInt8(value.count)] + value
        }
        let body = integer(raw[0..<32]) + integer(raw[32...])
        let der = [0x30, UInt8(body.count)] + body
        #expect(key.verify(signature: der, message: message, ecdsaFormat: .der))
        #expect(key.verify(signature: der, message: message) == false)
        #expect(key.verify(signature: raw, message: message, ecdsaFormat: .der) == false)
        #expect(key.verify(signature: der + [0], message: message, ecdsaFormat: .der) == false)
        #expect(key.verify(signature: [0x30, 0x81, UInt8(body.count)] + body, message: message, ecdsaFormat: .der) == false)
        #expect(key.verify(signature: der, message: message + [0], ecdsaFormat: .der) == false)
        // The format only concerns ECDSA: an Ed25519 signature verifies either way.
        let ed = try SigningKey.generate(.edDSA)
        #expect(ed.verify(signature: try ed.sign(message), message: message, ecdsaFormat: .der))
    }
}

@Suite struct PrimitiveTests {
    @Test func hmacMatchesRFC2202AndRFC4231() throws {
        for vector in try KnownAnswers.load().hmac {
            let key = hex(vector.key), message = hex(vector.message)
            #expect(hex(HMAC.authenticationCode(.sha1, key: key, message: message)) == vector.sha1)
            #expect(hex(HMAC.authenticationCode(.sha256, key: key, message: message)) == vector.sha256)
            #expect(hex(HMAC.authenticationCode(.sha512, key: key, message: message)) == vector.sha512)
        }
    }

    @Test func sha256OfAbcIsTheFIPSValue() {
        #expect(hex(Digest.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func aesGCMRoundTripsAndDetectsEveryTampering() throws {
        let key = SecureRandom.bytes(32)
        let secret = Array("JBSWY3DPEHPK3PXP".utf8)
        let box = try AESGCM.seal(secret, key: key, associatedData: Array("user-1".utf8))
        #expect(box.count == 12 + secret.count + 16)
        #expect(try AESGCM.open(box, key: key, associatedData: Array("user-1".utf8)) == secret)
        #expect(try AESGCM.seal(secret, key: key, associatedData: []) != (try AESGCM.seal(secret, key: key, associatedData: [])), "nonces are random")
        #expect(throws: CryptoError.self) { try AESGCM.open(box, key: SecureRandom.bytes(32), associatedData: Array("user-1".utf8)) }
        #expect(throws: CryptoError.self) { try AESGCM.open(box, key: key, associatedData: Array("user-2".utf8)) }
        var flipped = box
        flipped[14] ^= 0x80
        #expect(throws: CryptoError.self) { try AESGCM.open(flipped, key: key, associatedData: Array("user-1".utf8)) }
        #expect(throws: CryptoError.self) { try AESGCM.open(box.dropLast(), key: key, associatedData: Array("user-1".utf8)) }
        #expect(throws: CryptoError.self) { try AESGCM.open(Array(box.prefix(10)), key: key, associatedData: []) }
        #expect(throws: CryptoError.self) { try AESGCM.seal(secret, key: SecureRandom.bytes(16), associatedData: []) }
    }

    @Test func constantTimeEqualityComparesLengthAndBytes() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 4]) == false)
        #expect(ConstantTime.equals([1, 2, 3], [1, 2]) == false)
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.encode(Array("hello".utf8)) == "aGVsbG8")
        #expect(Base64URL.decode("aGVsbG8") == Array("hello".utf8))
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        for bad in ["aGVsbG8=", "aGVs+G8", "aGVs/G8", "a", "aGVsbG9", "a b"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad) decoded")
        }
        #expect(Base64URL.decode("") == [])
    }

    @Test func randomTokensAreDistinctAndLongEnough() {
        let tokens = Set((0..<100).map { _ in SecureRandom.token() })
        #expect(tokens.count == 100)
        #expect(tokens.allSatisfy { Base64URL.decode($0)?.count == 32 })
    }
}

@Suite struct Argon2Tests {
    @Test func rfc9106Section5_3Argon2idTag() throws {
        let vector = try KnownAnswers.load().argon2id
        let tag = try Argon2id.rawHash(
            password: hex(vector.password), salt: hex(vector.salt), secret: hex(vector.secret),
            associatedData: hex(vector.associatedData),
            parameters: Argon2Parameters(memoryKiB: vector.memoryKiB, iterations: vector.iterations, parallelism: vector.parallelism))
        #expect(hex(tag) == vector.tag)
    }

    @Test func encodedHashRoundTripsAndRejectsWrongPasswords() throws {
        let parameters = Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1)
        let encoded = try Argon2id.hash(password: "correct horse", parameters: parameters)
        #expect(encoded.hasPrefix("$argon2id$v=19$m=1024,t=1,p=1$"))
        #expect(Argon2id.verify(password: "correct horse", encoded: encoded))
        #expect(Argon2id.verify(password: "correct horsf", encoded: encoded) == false)
        #expect(Argon2id.parameters(ofEncoded: encoded) == parameters)
        #expect(try Argon2id.hash(password: "correct horse", parameters: parameters) != encoded, "salts are random")
        let salted = try Argon2id.hash(password: "p", parameters: parameters, salt: [UInt8](repeating: 7, count: 16))
        #expect(salted == (try Argon2id.hash(password: "p", parameters: parameters, salt: [UInt8](repeating: 7, count: 16))))
    }

    @Test func malformedOrAbsurdEncodingsNeverVerify() {
        let absurd = "$argon2id$v=19$m=4294967295,t=4294967295,p=255$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
        for encoded in ["", "garbage", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=1024,t=1$c2FsdA$aGFzaA", absurd,
                        "$2b$12$abcdefghijklmnopqrstuv"] {
            #expect(Argon2id.verify(password: "x", encoded: encoded) == false, "\(encoded)")
        }
    }

    @Test func rehashIsNeededOnlyWhenAStoredParameterIsWeaker() throws {
        let target = Argon2Parameters.owaspDefault
        #expect(Argon2id.needsRehash(encoded: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", target: target) == false)
        #expect(Argon2id.needsRehash(encoded: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", target: target) == false)
        #expect(Argon2id.needsRehash(encoded: "$argon2id$v=19$m=4096,t=2,p=1$c2FsdA$aGFzaA", target: target))
        #expect(Argon2id.needsRehash(encoded: "$argon2id$v=19$m=19456,t=1,p=1$c2FsdA$aGFzaA", target: target))
        #expect(Argon2id.needsRehash(encoded: "not a hash", target: target))
        #expect(Argon2Parameters.owaspDefault == Argon2Parameters(memoryKiB: 19456, iterations: 2, parallelism: 1))
    }
}

@Suite struct HexTests {
    @Test func hexIsWhatFoundationsFormatterWrites() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 31, 32, 33, 64] {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        }
        #expect(Hex.encode([0x00, 0x0f, 0xf0, 0xff]) == "000ff0ff")
    }

    @Test func hexDecodesEitherCaseAndRefusesAnythingElse() {
        #expect(Hex.decode("000fF0ff") == [0x00, 0x0f, 0xf0, 0xff])
        #expect(Hex.decode("") == [])
        for bad in ["0", "0g", "0x00", " 00", "000"] { #expect(Hex.decode(bad) == nil, "\(bad)") }
        let bytes = (0...255).map { UInt8($0) }
        #expect(Hex.decode(Hex.encode(bytes)) == bytes)
    }
}
