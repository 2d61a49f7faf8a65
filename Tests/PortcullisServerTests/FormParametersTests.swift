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
