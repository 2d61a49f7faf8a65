import Foundation
import PortcullisCrypto
import Testing

@Suite struct Base64Tests {
    /// RFC 4648 section 10's test vectors, padded.
    @Test func rfc4648VectorsDecode() {
        let vectors = ["": "", "Zg==": "f", "Zm8=": "fo", "Zm9v": "foo", "Zm9vYg==": "foob", "Zm9vYmE=": "fooba", "Zm9vYmFy": "foobar"]
        for (encoded, decoded) in vectors {
            #expect(Base64.decode(padded: ArraySlice(encoded.utf8)) == Array(decoded.utf8), "\(encoded)")
        }
    }

    /// Whatever Foundation encodes (every length, every byte value, `+` and `/`), both decode alike.
    @Test func decodesWhatFoundationEncodesAsFoundationDecodesIt() {
        for bytes in Self.randomBytes() {
            let encoded = Data(bytes).base64EncodedString()
            #expect(Base64.decode(padded: ArraySlice(encoded.utf8)) == bytes, "\(encoded)")
            #expect(Data(base64Encoded: encoded).map(Array.init) == bytes)
        }
    }

    /// Base64url encoding is Foundation's base64 with `-` and `_` for `+` and `/`, padding dropped,
    /// at every length and byte value, from contiguous bytes and from a sequence that has none.
    @Test func base64URLEncodesAsFoundationDoesWithTheURLAlphabetAndNoPadding() {
        for bytes in Self.randomBytes() {
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.encode(bytes.lazy.map { $0 }) == expected, "a sequence without contiguous storage")
            #expect(Base64URL.decode(expected) == bytes)
        }
    }

    /// 20 random byte strings of each length from 0 to 63 (every remainder of 3, every byte value).
    static func randomBytes() -> [[UInt8]] {
        (0..<64).flatMap { length in (0..<20).map { _ in (0..<length).map { _ in UInt8.random(in: 0...255) } } }
    }

    /// Malformed input is refused, including forms Foundation accepts (`====` as one zero byte,
    /// `=` inside the text).
    @Test func refusesMalformedPadding() {
        for text in ["YQ", "YQ=", "YWI", "Y===", "====", "YW=j", "YQ==YQ==", "YWI=YQ==", "Y WJ", "YWJj\n", "YWJ*", "-_-_"] {
            #expect(Base64.decode(padded: ArraySlice(text.utf8)) == nil, "\(text.debugDescription)")
        }
    }
}
