import NIOCore
import PortcullisCore
@testable import PortcullisServer
import Testing

/// Parses `text` as a body.
func strictJSON(_ text: String) throws(StrictJSONError) -> StrictJSONObject {
    try StrictJSONObject(parsing: Array(text.utf8))
}

/// The error `bytes` are refused with, nil when they are accepted.
func strictJSONRefusal(_ bytes: [UInt8], maximumBytes: Int = StrictJSONObject.defaultMaximumBytes) -> StrictJSONError? {
    do {
        _ = try StrictJSONObject(parsing: bytes, maximumBytes: maximumBytes)
        return nil
    } catch {
        return error
    }
}

func strictJSONRefusal(_ text: String) -> StrictJSONError? { strictJSONRefusal(Array(text.utf8)) }

@Suite struct StrictJSONObjectTests {
    // MARK: what is read

    @Test func readsTheStringFieldsOfAVerifyBody() throws {
        let body = try strictJSON(#"{"token": "eyJhbGciOiJFUzI1NiJ9.e30.sig", "audience": "billing"}"#)
        #expect(try body.requiredString("token") == "eyJhbGciOiJFUzI1NiJ9.e30.sig")
        #expect(try body.string("audience") == "billing")
        #expect(try body.string("subject") == nil)
        #expect(throws: StrictJSONError.missing("subject")) { try body.requiredString("subject") }
    }

    @Test func decodesEveryEscapeAndSurrogatePairs() throws {
        let body = try strictJSON(#"{"s": "\"\\\/\b\f\n\r\t|\u0041\u00e9\u00E9\u20ac\uD83D\uDEAA\u0000|\ud83d\udeaa"}"#)
        #expect(try body.string("s") == "\"\\/\u{8}\u{C}\n\r\t|Aéé€🚪\u{0}|🚪")
    }

    @Test func keepsRawUTF8AsItIs() throws {
        let body = try strictJSON("{\"s\": \"café 🚪 \u{7F} \u{FFFF} \u{10FFFF}\"}")
        #expect(try body.string("s") == "café 🚪 \u{7F} \u{FFFF} \u{10FFFF}")
    }

    @Test func nullCountsAsAbsentButIsStillAMember() throws {
        let body = try strictJSON(#"{"audience": null}"#)
        #expect(try body.string("audience") == nil)
        #expect(throws: StrictJSONError.missing("audience")) { try body.requiredString("audience") }
        #expect(body.contains("audience"))
        #expect(!body.contains("token"))
    }

    @Test func ignoresUnknownMembersWhateverTheyHold() throws {
        let body = try strictJSON("""
            {"x": {"a": [1, 2, {"b": null, "b": "nested duplicates are not looked for"}], "c": "\\u00e9"},
             "y": [true, false, null, -1.5e+3, 0, -0.0, 1E-7, [], {}], "z": "", "token": "t"}
            """)
        #expect(try body.requiredString("token") == "t")
        #expect(try body.string("z") == "")
    }

    @Test func membersOfOtherTypesAreNotStrings() throws {
        let body = try strictJSON(#"{"n": -12.5e3, "t": true, "f": false, "a": ["x"], "o": {"k": "v"}}"#)
        #expect(throws: StrictJSONError.notAString("n", found: .number)) { try body.string("n") }
        #expect(throws: StrictJSONError.notAString("t", found: .boolean)) { try body.string("t") }
        #expect(throws: StrictJSONError.notAString("f", found: .boolean)) { try body.requiredString("f") }
        #expect(throws: StrictJSONError.notAString("a", found: .array)) { try body.string("a") }
        #expect(throws: StrictJSONError.notAString("o", found: .object)) { try body.string("o") }
    }

    @Test func keysAreComparedByBytesNotByCanonicalEquivalence() throws {
        // "é" precomposed and "e" + combining acute are equal as Swift Strings, different JSON names.
        let body = try strictJSON(#"{"\u00e9": "one", "e\u0301": "two"}"#)
        #expect(try body.string("\u{E9}") == "one")
        #expect(try body.string("e\u{301}") == "two")
    }

    @Test func whitespaceOfTheFourKindsIsAllowedAroundEveryToken() throws {
        let body = try strictJSON(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ 1 , 2 ] \t\r\n, \"b\":\"c\" } \t\r\n")
        #expect(try body.string("b") == "c")
        #expect(strictJSONRefusal("{\u{C}}") == .malformed(.unexpectedByte, offset: 1))
        #expect(strictJSONRefusal("{\"a\":\u{A0}1}") == .malformed(.unexpectedByte, offset: 5))
    }

    @Test func anEmptyObjectHasNoMembers() throws {
        let body = try strictJSON("{}")
        #expect(body.members.isEmpty)
    }

    @Test func readsAByteBufferFromItsReaderIndex() throws {
        var buffer = ByteBuffer(string: "garbage{\"token\":\"abc\"}")
        buffer.moveReaderIndex(forwardBy: 7)
        #expect(try StrictJSONObject(parsing: buffer).string("token") == "abc")
        #expect(throws: StrictJSONError.tooLarge(limit: 10)) { try StrictJSONObject(parsing: buffer, maximumBytes: 10) }
    }

    @Test func readsACollectionWithoutContiguousStorage() throws {
        let bytes = Array(#"{"token":"abc"}"#.utf8)
        #expect(try StrictJSONObject(parsing: bytes.lazy.map { $0 }).string("token") == "abc")
    }

    // MARK: what is refused

    @Test func duplicateKeysAreRefusedEvenWhenSpelledWithEscapes() {
        #expect(strictJSONRefusal(#"{"token": "a", "token": "b"}"#) == .duplicateKey("token"))
        #expect(strictJSONRefusal(#"{"token": "a", "\u0074oken": "b"}"#) == .duplicateKey("token"))
        #expect(strictJSONRefusal(#"{"a": null, "a": "x"}"#) == .duplicateKey("a"))
        #expect(strictJSONRefusal(#"{"a": 1, "b": 2, "a": [1]}"#) == .duplicateKey("a"))
        #expect(strictJSONRefusal(#"{"": 1, "": 2}"#) == .duplicateKey(""))
    }

    @Test func nestingDeeperThanEightLevelsIsRefused() {
        func nested(_ levels: Int, open: String, close: String, inner: String = "1") -> String {
            "{\"a\":" + String(repeating: open, count: levels - 1) + inner + String(repeating: close, count: levels - 1) + "}"
        }
        #expect(StrictJSONObject.maximumDepth == 8)
        #expect(strictJSONRefusal(nested(8, open: "[", close: "]")) == nil)
        #expect(strictJSONRefusal(nested(9, open: "[", close: "]")) == .tooDeep(limit: 8))
        #expect(strictJSONRefusal(nested(8, open: "{\"k\":", close: "}")) == nil)
        #expect(strictJSONRefusal(nested(9, open: "{\"k\":", close: "}")) == .tooDeep(limit: 8))
        #expect(strictJSONRefusal(nested(9, open: "[", close: "]", inner: "")) == .tooDeep(limit: 8))
        #expect(strictJSONRefusal("{\"a\":" + String(repeating: "[", count: 10_000)) == .tooDeep(limit: 8))
    }

    @Test func bodiesOverTheLimitAreRefusedBeforeAnyByteIsRead() {
        let object = Array(#"{"token":"x"}"#.utf8)
        let padded = object + Array(repeating: UInt8(ascii: " "), count: 64 * 1024 - object.count)
        #expect(strictJSONRefusal(padded) == nil)
        #expect(strictJSONRefusal(padded + [UInt8(ascii: " ")]) == .tooLarge(limit: 65_536))
        // Not read: garbage over the limit is refused for its size, not its content.
        #expect(strictJSONRefusal([UInt8](repeating: 0xFF, count: 65_537)) == .tooLarge(limit: 65_536))
        #expect(strictJSONRefusal(object, maximumBytes: object.count - 1) == .tooLarge(limit: object.count - 1))
    }

    @Test func aTopLevelValueOtherThanAnObjectIsRefused() {
        for text in ["", "   ", "[]", "[{\"token\":\"x\"}]", "\"token\"", "1", "null", "true", "}", "x"] {
            #expect(strictJSONRefusal(text) == .notAnObject, "\(text)")
        }
    }

    @Test func bytesAfterTheObjectAreRefused() {
        #expect(strictJSONRefusal("{}x") == .malformed(.trailingBytes, offset: 2))
        #expect(strictJSONRefusal("{} {}") == .malformed(.trailingBytes, offset: 3))
        #expect(strictJSONRefusal("{}\n,") == .malformed(.trailingBytes, offset: 3))
        #expect(strictJSONRefusal("{}\u{0}") == .malformed(.trailingBytes, offset: 2))
        #expect(strictJSONRefusal("{} \r\n\t") == nil)
    }

    @Test func numbersOutsideTheGrammarAreRefused() {
        for number in ["0", "-0", "7", "10", "-123", "0.5", "-0.0", "1.25e10", "1E+2", "1e-0", "9007199254740993", "1e400"] {
            #expect(strictJSONRefusal("{\"n\":\(number)}") == nil, "\(number)")
        }
        for number in ["01", "-01", "00", "1.", "1.e5", "1e", "1e+", "1E-", "-", "--1", "-a", "-Infinity", "0.x"] {
            #expect(strictJSONRefusal("{\"n\":\(number)}") == .malformed(.invalidNumber, offset: 5), "\(number)")
        }
        for number in ["+1", ".5", "NaN", "Infinity", "0x10", "1_000", "1.5.5", "1e5e5", "1 2"] {
            #expect(strictJSONRefusal("{\"n\":\(number)}")?.isUnexpectedByte == true, "\(number)")
        }
        #expect(strictJSONRefusal("{\"n\":[1,01]}") == .malformed(.invalidNumber, offset: 8))
    }

    @Test func literalsOtherThanTrueFalseAndNullAreRefused() {
        for literal in ["True", "FALSE", "Null", "nil", "undefined", "truth", "nulll", "falsey", "t", "n"] {
            #expect(strictJSONRefusal("{\"v\":\(literal)}")?.isUnexpectedByte == true, "\(literal)")
        }
        #expect(strictJSONRefusal("{\"v\":tru") == .malformed(.unexpectedEnd, offset: 8))
    }

    @Test func aByteOrderMarkIsRefused() {
        #expect(strictJSONRefusal([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .malformed(.byteOrderMark, offset: 0))
        // UTF-16, which JSONDecoder would detect and accept, is not UTF-8 JSON either.
        #expect(strictJSONRefusal([0xFF, 0xFE, UInt8(ascii: "{"), 0, UInt8(ascii: "}"), 0]) == .notAnObject)
        #expect(strictJSONRefusal([UInt8(ascii: "{"), 0, UInt8(ascii: "}"), 0]) == .malformed(.unexpectedByte, offset: 1))
    }

    @Test func moreThanSixtyFourMembersAreRefused() {
        func members(_ count: Int) -> String { "{" + (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}" }
        #expect(StrictJSONObject.maximumMembers == 64)
        #expect(strictJSONRefusal(members(64)) == nil)
        #expect(strictJSONRefusal(members(65)) == .tooManyMembers(limit: 64))
        // Nested members are bounded by size and depth only: nothing keeps them.
        #expect(strictJSONRefusal("{\"a\":" + members(1000) + "}") == nil)
    }

    @Test func rawControlCharactersInStringsAreRefused() {
        for byte in UInt8(0)..<0x20 {
            let value = [UInt8(ascii: "a"), byte, UInt8(ascii: "b")]
            let inValue = Array(#"{"k":""#.utf8) + value + Array(#""}"#.utf8)
            #expect(strictJSONRefusal(inValue) == .malformed(.controlCharacter, offset: 7), "value \(byte)")
            let inKey = [UInt8(ascii: "{"), UInt8(ascii: "\"")] + value + Array(#"":1}"#.utf8)
            #expect(strictJSONRefusal(inKey) == .malformed(.controlCharacter, offset: 3), "key \(byte)")
            let nested = Array(#"{"k":["#.utf8) + [UInt8(ascii: "\"")] + value + Array(#""]}"#.utf8)
            #expect(strictJSONRefusal(nested) == .malformed(.controlCharacter, offset: 8), "nested \(byte)")
        }
        #expect(strictJSONRefusal("{\"k\":\"\u{7F}\"}") == nil)
    }

    @Test func invalidUTF8IsRefusedInKeysValuesAndNestedStrings() {
        let invalid: [[UInt8]] = [
            [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC3], [0xC3, 0x41], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xE2, 0x82], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF0, 0x9F, 0x9A], [0xFE], [0xFF], [0xE2, 0x28, 0xA1],
            [0xE2, 0x82, 0x41], [0xF0, 0x9F, 0x41, 0x80], [0xF0, 0x9F, 0x9A, 0x41], [0xF0, 0x9F, 0x9A, 0xC3],
        ]
        for sequence in invalid {
            let inValue = Array(#"{"k":"a"#.utf8) + sequence + Array(#""}"#.utf8)
            #expect(strictJSONRefusal(inValue) == .malformed(.invalidUTF8, offset: 7), "value \(sequence)")
            let inKey = Array(#"{"a"#.utf8) + sequence + Array(#"":1}"#.utf8)
            #expect(strictJSONRefusal(inKey) == .malformed(.invalidUTF8, offset: 3), "key \(sequence)")
            let nested = Array(#"{"k":{"a"#.utf8) + sequence + Array(#"":1}}"#.utf8)
            #expect(strictJSONRefusal(nested) == .malformed(.invalidUTF8, offset: 8), "nested \(sequence)")
        }
        // The shortest and longest of each length are fine.
        let valid: [[UInt8]] = [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                                [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]]
        for sequence in valid {
            #expect(strictJSONRefusal(Array(#"{"k":""#.utf8) + sequence + Array(#""}"#.utf8)) == nil, "\(sequence)")
        }
        // Outside strings no byte above 0x7F belongs to the grammar.
        #expect(strictJSONRefusal([UInt8(ascii: "{"), 0xC2, 0xA0, UInt8(ascii: "}")]) == .malformed(.unexpectedByte, offset: 1))
    }

    @Test func specialBytesAreFoundAtEveryPositionOfALongRun() throws {
        // Plain ASCII is skipped 8 bytes at a time: put each byte that stops the run at each
        // position of the first three words (the string starts at offset 6).
        for position in 0..<24 {
            func body(_ inner: [UInt8]) -> [UInt8] {
                Array(#"{"k":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: position) + inner
                    + Array(repeating: UInt8(ascii: "b"), count: 24 - position) + Array(#""}"#.utf8)
            }
            let run = { (inner: String) in String(repeating: "a", count: position) + inner + String(repeating: "b", count: 24 - position) }
            #expect(strictJSONRefusal(body([0x1F])) == .malformed(.controlCharacter, offset: 6 + position))
            #expect(strictJSONRefusal(body([0x00])) == .malformed(.controlCharacter, offset: 6 + position))
            #expect(strictJSONRefusal(body([0x80])) == .malformed(.invalidUTF8, offset: 6 + position))
            #expect(strictJSONRefusal(body([0xFF])) == .malformed(.invalidUTF8, offset: 6 + position))
            #expect(strictJSONRefusal(body([UInt8(ascii: "\\"), UInt8(ascii: "x")])) == .malformed(.invalidEscape, offset: 6 + position))
            #expect(strictJSONRefusal(body([UInt8(ascii: "\"")])) == .malformed(.unexpectedByte, offset: 7 + position))
            #expect(try StrictJSONObject(parsing: body([UInt8(ascii: "\\"), UInt8(ascii: "n")])).string("k") == run("\n"))
            #expect(try StrictJSONObject(parsing: body([0xC3, 0xA9])).string("k") == run("é"))
            #expect(try StrictJSONObject(parsing: body([0x21, 0x5B, 0x5D, 0x7F, 0x20])).string("k") == run("![]\u{7F} "))
        }
    }

    @Test func unpairedSurrogateEscapesAreRefused() {
        for (string, offset) in [(#"\uD800"#, 6), (#"\uDC00"#, 6), (#"\uDFFF"#, 6), (#"a\uD83D"#, 7), (#"\uD83Dx"#, 6),
                                 (#"\uD83D\u0041"#, 6), (#"\uD83D\uD83D"#, 6), (#"\uDEAA\uD83D"#, 6), (#"\uD83D\n"#, 6)] {
            #expect(strictJSONRefusal("{\"k\":\"\(string)\"}") == .malformed(.unpairedSurrogate, offset: offset), "\(string)")
        }
        #expect(strictJSONRefusal(#"{"\uD800":1}"#) == .malformed(.unpairedSurrogate, offset: 2))
        #expect(strictJSONRefusal(#"{"k":["\uDC00"]}"#) == .malformed(.unpairedSurrogate, offset: 7))
        #expect(strictJSONRefusal(#"{"k":"\uD83D\uDEAA"}"#) == nil)
    }

    @Test func escapesOutsideTheGrammarAreRefused() {
        for (string, offset) in [(#"\x"#, 6), (#"\'"#, 6), (#"\U0041"#, 6), (#"\u12"#, 6), (#"\u12G4"#, 6), (#"a\ "#, 7),
                                 (#"\uD83D\u12"#, 12), (#"\0"#, 6)] {
            #expect(strictJSONRefusal("{\"k\":\"\(string)\"}") == .malformed(.invalidEscape, offset: offset), "\(string)")
        }
        #expect(strictJSONRefusal(#"{"k":"\u00"#) == .malformed(.unexpectedEnd, offset: 10))
    }

    @Test func malformedStructureIsRefusedAtItsOffset() {
        let cases: [(String, StrictJSONError)] = [
            (#"{"token": "#, .malformed(.unexpectedEnd, offset: 10)),
            (#"{"token": "abc"#, .malformed(.unexpectedEnd, offset: 14)),
            (#"{"token""#, .malformed(.unexpectedEnd, offset: 8)),
            ("{", .malformed(.unexpectedEnd, offset: 1)),
            (#"{"a" "b"}"#, .malformed(.unexpectedByte, offset: 5)),
            (#"{"a":}"#, .malformed(.unexpectedByte, offset: 5)),
            (#"{,}"#, .malformed(.unexpectedByte, offset: 1)),
            (#"{"a":1,}"#, .malformed(.unexpectedByte, offset: 7)),
            (#"{"a":1 "b":2}"#, .malformed(.unexpectedByte, offset: 7)),
            (#"{"a":[1,]}"#, .malformed(.unexpectedByte, offset: 8)),
            (#"{"a":[1 2]}"#, .malformed(.unexpectedByte, offset: 8)),
            (#"{"a":{"b"}}"#, .malformed(.unexpectedByte, offset: 9)),
            (#"{"a":{1:2}}"#, .malformed(.unexpectedByte, offset: 6)),
            (#"{"a":[}"#, .malformed(.unexpectedByte, offset: 6)),
            (#"{'a':1}"#, .malformed(.unexpectedByte, offset: 1)),
            (#"{a:1}"#, .malformed(.unexpectedByte, offset: 1)),
            (#"{"a":1]"#, .malformed(.unexpectedByte, offset: 6)),
            (#"{"a":'x'}"#, .malformed(.unexpectedByte, offset: 5)),
            ("{\"a\":1 // c\n}", .malformed(.unexpectedByte, offset: 7)),
        ]
        for (text, error) in cases {
            #expect(strictJSONRefusal(text) == error, "\(text)")
        }
    }

    // MARK: what the API says

    @Test func errorsReadAsShortAPIMessages() {
        let messages: [(StrictJSONError, String)] = [
            (.malformed(.unexpectedByte, offset: 17), "the body is not valid JSON: unexpected byte at offset 17"),
            (.malformed(.unexpectedEnd, offset: 9), "the body is not valid JSON: unexpected end at offset 9"),
            (.malformed(.invalidUTF8, offset: 3), "the body is not valid JSON: invalid UTF-8 at offset 3"),
            (.malformed(.controlCharacter, offset: 3), "the body is not valid JSON: unescaped control character at offset 3"),
            (.malformed(.invalidEscape, offset: 3), "the body is not valid JSON: invalid escape at offset 3"),
            (.malformed(.unpairedSurrogate, offset: 3), "the body is not valid JSON: unpaired surrogate escape at offset 3"),
            (.malformed(.invalidNumber, offset: 3), "the body is not valid JSON: invalid number at offset 3"),
            (.malformed(.byteOrderMark, offset: 0), "the body is not valid JSON: byte order mark at offset 0"),
            (.malformed(.trailingBytes, offset: 2), "the body is not valid JSON: bytes after the object at offset 2"),
            (.notAnObject, "the body must be a JSON object"),
            (.tooLarge(limit: 65_536), "the body is larger than 65536 bytes"),
            (.tooDeep(limit: 8), "the body nests deeper than 8 levels"),
            (.tooManyMembers(limit: 64), "the body has more than 64 members"),
            (.duplicateKey("token"), #"duplicate key "token""#),
            (.missing("action"), "action is required"),
            (.notAString("token", found: .number), "token must be a string, not a number"),
            (.notAString("token", found: .boolean), "token must be a string, not a boolean"),
            (.notAString("token", found: .array), "token must be a string, not an array"),
            (.notAString("token", found: .object), "token must be a string, not an object"),
        ]
        for (error, message) in messages {
            #expect(error.description == message)
        }
    }

    @Test func aDuplicateKeyIsEchoedEscapedAndCut() {
        #expect(StrictJSONError.duplicateKey("a\"b\\c\u{0}\u{1B}\u{2028}é").description == #"duplicate key "a\"b\\c\u0000\u001B\u2028é""#)
        let long = String(repeating: "k", count: 100)
        #expect(StrictJSONError.duplicateKey(long).description == "duplicate key \"" + String(repeating: "k", count: 64) + "…\"")
        #expect(StrictJSONError.duplicateKey(String(repeating: "é", count: 40)).description
            == "duplicate key \"" + String(repeating: "é", count: 32) + "…\"")
    }

    @Test func routesThrowTheRefusalAsAPortcullisError() {
        #expect(PortcullisError(StrictJSONError.duplicateKey("token")) == .invalidRequest(#"duplicate key "token""#))
        #expect(PortcullisError(StrictJSONError.missing("action")) == .invalidRequest("action is required"))
        #expect(PortcullisError(StrictJSONError.malformed(.unexpectedEnd, offset: 4))
            == .invalidRequest("the body is not valid JSON: unexpected end at offset 4"))
        #expect(PortcullisError(StrictJSONError.tooLarge(limit: 65_536)) == .payloadTooLarge)
    }
}

extension StrictJSONError {
    var isUnexpectedByte: Bool {
        if case .malformed(.unexpectedByte, _) = self { true } else { false }
    }
}
