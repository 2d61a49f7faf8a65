import PortcullisWebAuthn
import Testing

/// The strict CBOR decoder against RFC 8949's own examples, and the inputs it must refuse.
@Suite struct CBORDecoderTests {
    struct Appendix: Decodable {
        struct Accepted: Decodable, CustomTestStringConvertible {
            let hex: String
            let diagnostic: String
            let value: Expected
            var testDescription: String { diagnostic }
        }
        struct Refused: Decodable, CustomTestStringConvertible {
            let hex: String
            let error: String
            let what: String
            var testDescription: String { what }
        }
        let accepted: [Accepted]
        let refused: [Refused]
    }

    /// cbor2's decoding, tagged by kind.
    struct Expected: Decodable {
        let cbor: CBORValue

        init(from decoder: any Decoder) throws {
            let members = try decoder.container(keyedBy: Key.self)
            let key = try #require(members.allKeys.first)
            let value: CBORValue
            switch key.stringValue {
            case "unsigned": value = .unsigned(try #require(UInt64(try members.decode(String.self, forKey: key))))
            case "negative": value = .negative(try #require(UInt64(try members.decode(String.self, forKey: key))))
            case "float": value = .float(try #require(Double(try members.decode(String.self, forKey: key))))
            case "bytes": value = .bytes(hex(try members.decode(String.self, forKey: key)))
            case "text": value = .text(try members.decode(String.self, forKey: key))
            case "bool": value = .bool(try members.decode(Bool.self, forKey: key))
            case "null": value = .null
            case "undefined": value = .undefined
            case "array": value = .array(try members.decode([Expected].self, forKey: key).map(\.cbor))
            default:
                let pairs = try members.decode([[Expected]].self, forKey: key)
                value = .map(pairs.map { CBORMapEntry(key: $0[0].cbor, value: $0[1].cbor) })
            }
            cbor = value
        }

        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
    }

    static let appendix = try? fixture("rfc8949-appendix-a.json", as: Appendix.self)

    @Test(arguments: appendix?.accepted ?? [])
    func decodesTheRFCExample(example: Appendix.Accepted) throws {
        #expect(try CBORDecoder.decode(hex(example.hex)) == example.value.cbor)
    }

    @Test(arguments: appendix?.refused ?? [])
    func refusesTheRFCExampleWeDoNotAllow(example: Appendix.Refused) {
        #expect(throws: CBORError.self) { try CBORDecoder.decode(hex(example.hex)) }
        do { _ = try CBORDecoder.decode(hex(example.hex)) } catch {
            #expect(Mirror(reflecting: error).children.first?.label == example.error)
        }
    }

    @Test func nanIsDecodedAsNaN() throws {
        guard case .float(let value) = try CBORDecoder.decode([0xF9, 0x7E, 0x00]) else { Issue.record("not a float"); return }
        #expect(value.isNaN)
    }

    @Test func refusesIndefiniteLengths() {
        for input: [UInt8] in [[0x5F, 0x41, 0x00, 0xFF], [0x7F, 0xFF], [0x9F, 0xFF], [0xBF, 0xFF]] {
            #expect(throws: CBORError.indefiniteLength(offset: 0)) { try CBORDecoder.decode(input) }
        }
        #expect(throws: CBORError.indefiniteLength(offset: 1)) { try CBORDecoder.decode([0x81, 0x9F, 0xFF]) }
    }

    @Test func refusesDuplicateMapKeys() {
        #expect(throws: CBORError.duplicateMapKey(offset: 3)) { try CBORDecoder.decode([0xA2, 0x01, 0x01, 0x01, 0x02]) }
        // "fmt" twice, as a forged attestation object would carry it.
        let twice = cbor(.map([CBORMapEntry(key: .text("fmt"), value: .text("none")), CBORMapEntry(key: .text("fmt"), value: .text("packed"))]))
        #expect(throws: CBORError.duplicateMapKey(offset: 10)) { try CBORDecoder.decode(twice) }
        // 1 and 1.0 are different keys in CBOR.
        #expect(throws: Never.self) { try CBORDecoder.decode([0xA2, 0x01, 0x00, 0xF9, 0x3C, 0x00, 0x00]) }
    }

    @Test func refusesTrailingBytesButPrefixDecodeReportsTheLength() throws {
        #expect(throws: CBORError.trailingBytes(offset: 1, count: 1)) { try CBORDecoder.decode([0x00, 0x00]) }
        let (value, length) = try CBORDecoder.decodePrefix([0x82, 0x01, 0x02, 0xFF, 0xFF][...])
        #expect(value == .array([.unsigned(1), .unsigned(2)]))
        #expect(length == 3)
        // Offsets count from the start of the slice, not of the array it is cut from.
        let bytes: [UInt8] = [0xAA, 0xAA, 0x62, 0xC3]
        #expect(throws: CBORError.lengthExceedsInput(offset: 0, declared: 2, remaining: 1)) { try CBORDecoder.decodePrefix(bytes[2...]) }
    }

    @Test func refusesNestingPastSixteenLevels() throws {
        let sixteen = [UInt8](repeating: 0x81, count: 15) + [0x00]
        #expect(throws: Never.self) { try CBORDecoder.decode(sixteen) }
        #expect(throws: CBORError.tooDeep(limit: 16)) { try CBORDecoder.decode([0x81] + sixteen) }
        #expect(throws: CBORError.tooDeep(limit: 16)) { try CBORDecoder.decode([UInt8](repeating: 0xA1, count: 100_000)) }
        #expect(throws: CBORError.tooDeep(limit: 2)) { try CBORDecoder.decode([0x81, 0x81, 0x00], maximumDepth: 2) }
    }

    @Test func refusesLengthsPastTheEndBeforeAllocating() {
        #expect(throws: CBORError.lengthExceedsInput(offset: 0, declared: 0xFFFF_FFFF, remaining: 1)) {
            try CBORDecoder.decode([0x5A, 0xFF, 0xFF, 0xFF, 0xFF, 0x00])
        }
        #expect(throws: CBORError.lengthExceedsInput(offset: 0, declared: UInt64.max, remaining: 0)) {
            try CBORDecoder.decode([0x9B] + [UInt8](repeating: 0xFF, count: 8))
        }
        #expect(throws: CBORError.lengthExceedsInput(offset: 0, declared: 2, remaining: 3)) { try CBORDecoder.decode([0xA2, 0x01, 0x02, 0x03]) }
        #expect(throws: CBORError.lengthExceedsInput(offset: 0, declared: 3, remaining: 2)) { try CBORDecoder.decode([0x63, 0x61, 0x62]) }
        #expect(throws: CBORError.truncated(offset: 0)) { try CBORDecoder.decode([]) }
        #expect(throws: CBORError.truncated(offset: 0)) { try CBORDecoder.decode([0x19, 0x01]) }
        #expect(throws: CBORError.lengthExceedsInput(offset: 0, declared: 2, remaining: 1)) { try CBORDecoder.decode([0x82, 0x01]) }
        #expect(throws: CBORError.truncated(offset: 2)) { try CBORDecoder.decode([0x82, 0x01, 0x19]) }
    }

    @Test func refusesInvalidUTF8() {
        for text: [UInt8] in [[0xC3, 0x28], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF]] {
            #expect(throws: CBORError.invalidUTF8(offset: 0)) { try CBORDecoder.decode([0x60 | UInt8(text.count)] + text) }
        }
    }

    @Test func refusesReservedAndMeaninglessHeads() {
        for byte: UInt8 in [0x1C, 0x1D, 0x1E, 0x3C, 0x5D, 0x7E, 0x9C, 0xBD, 0xDE, 0xFC, 0x1F, 0x3F, 0xDF] {
            #expect(throws: CBORError.reservedAdditionalInformation(offset: 0, value: byte & 0x1F)) { try CBORDecoder.decode([byte]) }
        }
        #expect(throws: CBORError.unexpectedBreak(offset: 0)) { try CBORDecoder.decode([0xFF]) }
        #expect(throws: CBORError.unsupportedSimpleValue(offset: 0, value: 0x10)) { try CBORDecoder.decode([0xF8, 0x10]) }
    }

    @Test func errorsSayWhatWentWrong() {
        #expect(CBORError.duplicateMapKey(offset: 7).description == "CBOR map has a duplicate key at byte 7")
        #expect(CBORError.tooDeep(limit: 16).description == "CBOR nesting deeper than 16 levels")
    }

    @Test func mapLookupsByIntegerAndText() throws {
        let value = try CBORDecoder.decode(hex("a301022661616161616b"))
        #expect(value[1]?.integer == 2)
        #expect(value[-7]?.textString == "a")
        #expect(value["a"]?.textString == "k")
        #expect(value[3] == nil)
        #expect(CBORValue.negative(UInt64.max).integer == nil)
    }
}
