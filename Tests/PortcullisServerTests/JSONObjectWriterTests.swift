import Foundation
import Hummingbird
@testable import PortcullisServer
import Testing

@Suite struct JSONObjectWriterTests {
    @Test func writesWhatJSONSerializationReadsBackForAwkwardStrings() throws {
        let awkward = "quote \" backslash \\ newline \n return \r tab \t nul \u{0} bell \u{7} unit \u{1F} del \u{7F} café 🚪 </script>"
        var writer = JSONObjectWriter()
        writer.add("active", true)
        writer.add("sub", awkward)
        writer.add("missing", nil as String?)
        writer.add("roles", ["a\"b", "", awkward])
        writer.add("none", [] as [String])
        writer.add("exp", Int64(-42))
        let bytes = Data(buffer: writer.finish())
        let object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        #expect(object["active"] as? Bool == true)
        #expect(object["sub"] as? String == awkward)
        #expect(object.keys.contains("missing") == false)
        #expect(object["roles"] as? [String] == ["a\"b", "", awkward])
        #expect(object["none"] as? [String] == [])
        #expect(object["exp"] as? Int == -42)
        #expect(object.count == 5)
    }

    /// The bytes themselves, for plain values: each key copied in one write with its comma and
    /// quotes, each string with nothing to escape with its quotes (an empty one too).
    @Test func writesPlainMembersAsCompactJSON() {
        var writer = JSONObjectWriter()
        writer.add("a", "b")
        writer.add("empty", "")
        writer.add("roles", ["x", "", "y z"])
        writer.add(key: "run-time \"key\"", "v")
        writer.add("n", Int64(7))
        writer.add("t", false)
        #expect(String(buffer: writer.finish()) == #"{"a":"b","empty":"","roles":["x","","y z"],"run-time \"key\"":"v","n":7,"t":false}"#)
    }

    @Test func anEmptyObjectIsTwoBraces() {
        #expect(String(buffer: JSONObjectWriter().finish()) == "{}")
    }
}
