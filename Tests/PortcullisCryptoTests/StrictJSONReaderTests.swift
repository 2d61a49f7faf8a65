import PortcullisCrypto
import Testing

/// Reads `text` as one object whose members are all read with `readMember`.
func readStrictObject<Value>(_ text: String, _ readMember: (inout StrictJSONReader) throws(StrictJSONError) -> Value) throws(StrictJSONError) -> [String: Value] {
    let result = Array(text.utf8).withUnsafeBytes { bytes in
        Result { () throws(StrictJSONError) in
            var reader = StrictJSONReader(bytes)
            var members: [String: Value] = [:]
            try reader.readObject { key, reader throws(StrictJSONError) in members[key] = try readMember(&reader) }
            return members
        }
    }
    return try result.get()
}

/// The value readers added for tokens; the grammar itself is pinned by the server's
/// `StrictJSONObjectTests` and `StrictJSONObjectDifferentialTests`.
@Suite struct StrictJSONReaderTests {
    @Test func readsIntegersAcrossTheWholeInt64Range() throws {
        let read = try readStrictObject(#"{"a": 0, "b": -0, "c": 9223372036854775807, "d": -9223372036854775808, "e": 1767225600, "f": -1}"#) {
            (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readInt64()
        }
        #expect(read == ["a": 0, "b": 0, "c": .max, "d": .min, "e": 1_767_225_600, "f": -1])
    }

    @Test func integerReaderGivesNilForFractionsExponentsOverflowAndOtherTypes() throws {
        let read = try readStrictObject("""
            {"a": 1.0, "b": 1e3, "c": 9223372036854775808, "d": -9223372036854775809, "e": 99999999999999999999,
             "f": "5", "g": null, "h": true, "i": [1], "j": {"k": 1}, "l": -0.0, "m": 1E+0}
            """) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readInt64() }
        #expect(read.count == 12)
        #expect(read.values.allSatisfy { $0 == nil })
    }

    @Test func integerReaderStillRefusesWhatIsNotJSON() {
        for text in [#"{"a": 01}"#, #"{"a": -}"#, #"{"a": 1.}"#, #"{"a": +1}"#, #"{"a": 1e}"#, #"{"a": 1"#] {
            #expect(throws: StrictJSONError.self, "\(text)") {
                try readStrictObject(text) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readInt64() }
            }
        }
    }

    @Test func readsArraysOfStringsAndALoneStringOnlyWhenAsked() throws {
        let text = #"{"a": ["x", "\u00e9", "\ud83d\udeaa", ""], "b": [], "c": "one", "d": [ "sp" , "aced" ]}"#
        let lenient = try readStrictObject(text) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readStrings(acceptingOne: true) }
        #expect(lenient == ["a": ["x", "é", "🚪", ""], "b": [], "c": ["one"], "d": ["sp", "aced"]])
        let arraysOnly = try readStrictObject(text) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readStrings() }
        #expect(arraysOnly["c"] == .some(nil))
        #expect(arraysOnly["a"] == ["x", "é", "🚪", ""])
    }

    @Test func stringArrayReaderGivesNilForMixedArraysButValidatesThemToTheEnd() throws {
        let read = try readStrictObject(#"{"a": ["x", 1], "b": [null], "c": [["x"]], "d": 5, "e": null, "f": ["x", {"y": [true]}, "z"]}"#) {
            (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readStrings(acceptingOne: true)
        }
        #expect(read.count == 6)
        #expect(read.values.allSatisfy { $0 == nil })
        for text in [#"{"a": ["x", 1.]}"#, #"{"a": ["x", "\ud800"]}"#, #"{"a": ["x",]}"#, #"{"a": ["x" "y"]}"#] {
            #expect(throws: StrictJSONError.self, "\(text)") {
                try readStrictObject(text) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readStrings() }
            }
        }
    }

    @Test func stringArrayElementsCountTowardsTheDepthBound() throws {
        let nested = { (levels: Int) in #"{"a": ["x", "# + String(repeating: "[", count: levels) + String(repeating: "]", count: levels) + "]}" }
        // The object is level 1 and the array level 2: six more levels fit, seven do not.
        #expect(try readStrictObject(nested(6)) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readStrings() } == ["a": nil])
        #expect(throws: StrictJSONError.tooDeep(limit: 8)) {
            try readStrictObject(nested(7)) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readStrings() }
        }
    }

    @Test func duplicateNamesAreRefusedWhicheverReaderReadTheValues() {
        #expect(throws: StrictJSONError.duplicateKey("exp")) {
            try readStrictObject(#"{"exp": 1, "\u0065xp": 2}"#) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.readInt64() }
        }
        #expect(throws: StrictJSONError.duplicateKey("a")) {
            try readStrictObject(#"{"a": [], "a": []}"#) { (reader: inout StrictJSONReader) throws(StrictJSONError) in try reader.skipValue() }
        }
    }
}
