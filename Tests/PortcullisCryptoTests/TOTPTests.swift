import Foundation
import PortcullisCrypto
import Testing

struct RFC6238Vectors: Decodable {
    struct Case: Decodable {
        let time: Int64
        let SHA1: String
        let SHA256: String
        let SHA512: String
    }
    let secrets: [String: String]
    let cases: [Case]
}

@Suite struct TOTPTests {
    @Test(arguments: [HashAlgorithm.sha1, .sha256, .sha512])
    func rfc6238AppendixBVectors(algorithm: HashAlgorithm) throws {
        let vectors = try JSONDecoder().decode(RFC6238Vectors.self, from: try fixture("rfc6238.json"))
        let secret = Array(try #require(vectors.secrets[algorithm.rawValue]).utf8)
        let totp = TOTP(algorithm: algorithm, digits: 8, period: 30)
        for vector in vectors.cases {
            let expected = switch algorithm { case .sha1: vector.SHA1; case .sha256: vector.SHA256; case .sha512: vector.SHA512 }
            #expect(totp.code(secret: secret, step: totp.step(at: vector.time)) == expected, "T=\(vector.time)")
        }
    }

    @Test func sixDigitCodesAreTheLastSixDigitsZeroPadded() {
        let secret = Array("12345678901234567890".utf8)
        // RFC 6238: 07081804 at T=1111111109, so the 6-digit code keeps its leading zero.
        #expect(TOTP.standard.code(secret: secret, step: TOTP.standard.step(at: 1111111109)) == "081804")
        #expect(TOTP.standard.code(secret: secret, step: TOTP.standard.step(at: 59)) == "287082")
    }

    @Test func windowAcceptsOneStepEitherSideAndNoMore() {
        let secret = SecureRandom.bytes(20)
        let totp = TOTP.standard
        let now: Int64 = 1_800_000_000
        let step = totp.step(at: now)
        for offset: Int64 in [-1, 0, 1] {
            #expect(totp.matchingStep(secret: secret, candidate: totp.code(secret: secret, step: step + offset), around: step) == step + offset)
        }
        for offset: Int64 in [-3, -2, 2, 3] {
            let code = totp.code(secret: secret, step: step + offset)
            // A far-off code could collide with a window code by chance (1 in 10^6); only assert when it does not.
            let collides = (-1...1).contains { totp.code(secret: secret, step: step + $0) == code }
            if !collides { #expect(totp.matchingStep(secret: secret, candidate: code, around: step) == nil) }
        }
        #expect(totp.matchingStep(secret: secret, candidate: "12345", around: step) == nil)
        #expect(totp.matchingStep(secret: secret, candidate: "", around: step) == nil)
    }

    @Test func base32FollowsRFC4648() {
        let cases = ["": "", "f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB", "foobar": "MZXW6YTBOI"]
        for (plain, encoded) in cases {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil)
        let random = SecureRandom.bytes(20)
        #expect(Base32.decode(Base32.encode(random)) == random)
        #expect(Base32.encode(random).count == 32)
    }
}
