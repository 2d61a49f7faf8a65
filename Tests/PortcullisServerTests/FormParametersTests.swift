import Foundation
import NIOCore
import PortcullisCore
@testable import PortcullisServer
import Testing

@Suite struct FormParametersTests {
    /// The one-pass decoder against Foundation's `removingPercentEncoding` (after `+` → space),
    /// over escapes good and broken, multi-byte UTF-8 and invalid byte sequences.
    @Test func decodingAgreesWithFoundation() {
        let pieces = ["a", "Z", "0", "+", "%20", "%2B", "%2b", "%", "%4", "%zz", "%G1", "%C3%A9", "%C3", "%E2%82%AC", "%F0%9F%98%80",
                      "%FF", "%80", "é", "€", "=", "&", "-._~", "%00", "%25", " "]
        var generator = SeededGenerator(state: 7)
        for _ in 0..<5_000 {
            let text = (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let expected = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            #expect(FormParameters.decode(Substring(text)) == expected, "\(text)")
        }
    }

    /// The byte-wise splitter against a plain `split` over the string, on generated forms with
    /// empty pairs, missing or extra `=`, repeated names and escapes; a body read from a buffer
    /// agrees with the same text.
    @Test func splittingAgreesWithAPlainSplit() {
        func reference(_ text: String) -> [String: String]? {
            var values: [String: String] = [:]
            for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = parts[0].replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                      let value = parts.count > 1 ? parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding : "" else { return nil }
                if FormParameters.repeatable.contains(name) { continue }
                guard values[name] == nil else { return nil }
                if !value.isEmpty { values[name] = value }
            }
            return values
        }
        let pieces = ["a", "b", "token", "=", "==", "&", "&&", "%41", "%zz", "+", "%C3%A9", "é", "x=y", "resource=r"]
        var generator = SeededGenerator(state: 11)
        for _ in 0..<5_000 {
            let text = (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let parsed = try? FormParameters(parsing: text)
            #expect(parsed?.values == reference(text), "\(text)")
            let fromBody = try? FormParameters(body: ByteBuffer(string: text), contentType: "application/x-www-form-urlencoded")
            #expect(fromBody?.values == parsed?.values, "\(text)")
        }
        let notUTF8 = ByteBuffer(bytes: Array("token=a".utf8) + [0xFF])
        #expect(throws: OAuthError.self) { try FormParameters(body: notUTF8, contentType: "application/x-www-form-urlencoded") }
        let completedByAnEscape = ByteBuffer(bytes: Array("token=".utf8) + [0xC3] + Array("%A9".utf8))
        #expect(throws: OAuthError.self, "a raw byte that is not UTF-8 is refused even where an escape completes it") {
            try FormParameters(body: completedByAnEscape, contentType: "application/x-www-form-urlencoded")
        }
    }

    @Test func formsSplitOnTheirSeparatorsOnly() throws {
        let form = try FormParameters(parsing: "token=a%26b%3Dc&client_id=%C3%A9+x&empty=&=v")
        #expect(form["token"] == "a&b=c")
        #expect(form["client_id"] == "é x")
        #expect(form["empty"] == nil, "an empty value is absent")
        #expect(throws: OAuthError.self) { try FormParameters(parsing: "token=%zz") }
        #expect(throws: OAuthError.self) { try FormParameters(parsing: "a=1&a=2") }
    }
}

@Suite struct BasicCredentialsTests {
    private func credentials(_ header: String, form: String = "") throws(OAuthError) -> ClientCredentials {
        try OAuthController.credentials(authorization: header, form: try FormParameters(parsing: form))
    }

    /// RFC 6749 section 2.3.1: id and secret form-encoded, then joined by `:` and base64-encoded;
    /// the scheme in any case (RFC 9110 section 11.1), spaces or tabs around the credentials.
    @Test func readsIDAndSecretWhateverTheSchemesCaseAndTheBlanksAround() throws {
        let encoded = Data("my%20app:s%3Acret+x".utf8).base64EncodedString()
        for header in ["Basic \(encoded)", "basic \(encoded)", "BASIC \(encoded)", "bAsIc \t\(encoded) \t"] {
            let read = try credentials(header)
            #expect(read == ClientCredentials(clientID: "my app", secret: "s:cret x", viaBasic: true), "\(header)")
        }
    }

    /// Another scheme is not Basic: the form's credentials count instead.
    @Test func anotherSchemeLeavesTheFormsCredentials() throws {
        for header in ["Bearer abc", "Basi", "Basic", "Basicx YTpi", "Basic\u{0}YTpi"] {
            #expect(try credentials(header, form: "client_id=web") == ClientCredentials(clientID: "web", secret: nil, viaBasic: false), "\(header.debugDescription)")
        }
    }

    /// Bad base64, no colon, bytes that are not UTF-8 or a broken escape: `invalid_client`.
    @Test func malformedCredentialsAreInvalidClient() {
        let notUTF8 = Data([0x61, 0x3A, 0xFF]).base64EncodedString()
        for encoded in ["YTpi=", "====", "YW=j", Data("no-colon".utf8).base64EncodedString(), notUTF8, Data("a%zz:b".utf8).base64EncodedString(), "YT pi"] {
            #expect(throws: OAuthError.self, "\(encoded)") { try credentials("Basic \(encoded)") }
        }
    }
}
