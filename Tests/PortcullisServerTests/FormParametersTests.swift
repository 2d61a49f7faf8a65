import Foundation
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
