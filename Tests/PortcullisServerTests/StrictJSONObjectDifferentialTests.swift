import Foundation
import PortcullisCrypto
@testable import PortcullisServer
import Testing

/// `StrictJSONObject` against Foundation's `JSONSerialization`, an independent parser, over
/// generated bodies and byte-level mutations of them (seeded: every run sees the same inputs).
///
/// Only the sound directions are asserted. JSONSerialization (swift-corelibs-foundation, as
/// probed here) is no referee for our strictness: it takes duplicate names (the last wins), a
/// byte order mark, UTF-16, 512 levels of nesting, and merges canonically equivalent names
/// (its dictionary has `String` keys). Where it refuses and RFC 8259 allows, it is only numbers
/// beyond a `Double` (`1e400`): RFC 8259 section 9 lets a parser limit their range; we accept them,
/// since no member is read as a number. So:
/// - whatever we accept, it accepts too, with the same members, strings, nulls and non-strings,
///   unless it refused an unrepresentable number;
/// - whatever it accepts and we refuse, we refuse for one of our own bounds or rules (duplicate
///   name, byte order mark, depth, member count, size), never for grammar;
/// - every generated body (valid JSON, no duplicate names, within our bounds) we accept, with the
///   values the generator wrote.
@Suite struct StrictJSONObjectDifferentialTests {
    @Test func agreesWithJSONSerializationOnGeneratedAndMutatedBodies() throws {
        var generator = BodyGenerator(seed: 0x5EED_1505)
        var mutantsAccepted = 0, mutantsRefused = 0
        for _ in 0..<2_000 {
            let body = generator.body()
            let object = try #require(try? StrictJSONObject(parsing: body.bytes), "refused a valid body: \(body.text)")
            #expect(object.members.count == body.expected.count, "\(body.text)")
            for (key, value) in body.expected {
                #expect(object.members.first { StrictJSONReader.sameBytes($0.key, key) }?.value == value, "\(key) in \(body.text)")
            }
            #expect(Self.serialization(of: body.bytes, agreesWith: object), "\(body.text)")

            for _ in 0..<5 {
                let mutant = generator.mutate(body.bytes)
                let text = String(decoding: mutant, as: UTF8.self)
                do {
                    let object = try StrictJSONObject(parsing: mutant)
                    mutantsAccepted += 1
                    #expect(Self.serialization(of: mutant, agreesWith: object), "\(text) from \(body.text)")
                } catch {
                    mutantsRefused += 1
                    if (try? JSONSerialization.jsonObject(with: Data(mutant))) != nil {
                        #expect(Self.isOurOwnRule(error), "\(error) for \(text) from \(body.text)")
                    }
                }
            }
        }
        // Neither side of the mutants is empty, or the assertions on them prove little.
        #expect(mutantsAccepted > 400)
        #expect(mutantsRefused > 5_000)
    }

    @Test func disagreementsWithJSONSerializationAreTheDocumentedOnes() throws {
        // It refuses numbers beyond a Double; we accept them.
        for text in [#"{"n": 1e400}"#, #"{"n": [-1e309]}"#] {
            let object = try StrictJSONObject(parsing: Array(text.utf8))
            #expect(Self.serialization(of: Array(text.utf8), agreesWith: object))
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) == nil, "JSONSerialization now reads \(text)")
        }
        // It accepts what our rules refuse.
        let members = (0..<65).map { "\"k\($0)\":1" }.joined(separator: ",")
        for bytes in [Array(#"{"a":1,"a":2}"#.utf8), [0xEF, 0xBB, 0xBF] + Array("{}".utf8),
                      Array(("{\"a\":" + String(repeating: "[", count: 8) + String(repeating: "]", count: 8) + "}").utf8),
                      Array("{\(members)}".utf8)] {
            #expect((try? JSONSerialization.jsonObject(with: Data(bytes))) != nil)
            #expect(strictJSONRefusal(bytes).map(Self.isOurOwnRule) == true, "\(bytes)")
        }
    }

    /// Whether JSONSerialization reads `bytes` as an object with the same members, the same
    /// strings, the same nulls and non-strings where we saw them, or refuses only a number's range.
    static func serialization(of bytes: [UInt8], agreesWith object: StrictJSONObject) -> Bool {
        let theirs: Any
        do { theirs = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? ""
            return reason.contains("is not representable")
        }
        guard let theirs = theirs as? [String: Any], theirs.count == object.members.count else { return false }
        return object.members.allSatisfy { member in
            guard let value = theirs[member.key] else { return false }
            switch member.value {
            case .string(let text): return (value as? String).map { StrictJSONReader.sameBytes($0, text) } ?? false
            case .null: return value is NSNull
            case .other: return !(value is String) && !(value is NSNull)
            }
        }
    }

    /// Refusals of valid JSON that are ours by design.
    static func isOurOwnRule(_ error: StrictJSONError) -> Bool {
        switch error {
        case .duplicateKey, .tooDeep, .tooManyMembers, .tooLarge, .malformed(.byteOrderMark, _): true
        default: false
        }
    }
}

/// SplitMix64: a small, seedable generator, so failures replay.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes random valid bodies, each spelling of strings (raw, short escape, `\u`, surrogate pair)
/// and numbers the grammar allows, nested values within the depth bound, and remembers what the
/// top-level members hold.
struct BodyGenerator {
    struct Body {
        var bytes: [UInt8] = []
        var expected: [String: StrictJSONObject.Value] = [:]
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    var random: SeededGenerator
    private var out: [UInt8] = []

    init(seed: UInt64) { random = SeededGenerator(state: seed) }

    /// Distinct names, none canonically equivalent to another (Swift dictionaries would merge those).
    static let keys = ["token", "audience", "action", "resource", "subject", "a", "", "é", "🚪", "k\"q", "tab\tkey", "\u{0}",
                       "x y", "\\", "aud", "τοκεν"]
    static let scalars: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{8}", "\u{C}", "\n", "\r", "\t",
                                            "\u{1F}", "\u{7F}", "é", "€", "\u{2028}", "\u{FFFF}", "🚪", "\u{10FFFF}", "\u{301}", "{", "]"]
    /// Bytes that matter to the grammar, plus UTF-8 lead, continuation and never-valid bytes.
    static let interesting = Array("{}[]\":,\\/0123456789-+.eEtrufalsn \t\n\rb".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xED, 0xEF, 0xBB, 0xF4, 0xFF]

    mutating func body() -> Body {
        out = []
        var body = Body()
        whitespace()
        out.append(UInt8(ascii: "{"))
        let keys = Self.keys.shuffled(using: &random).prefix(Int.random(in: 0...7, using: &random))
        for (index, key) in keys.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            whitespace()
            string(key)
            whitespace()
            out.append(UInt8(ascii: ":"))
            whitespace()
            body.expected[key] = value(depth: 1)
            whitespace()
        }
        out.append(UInt8(ascii: "}"))
        whitespace()
        body.bytes = out
        return body
    }

    /// One to three byte-level edits: replace, insert, delete, truncate, or copy a slice elsewhere.
    mutating func mutate(_ original: [UInt8]) -> [UInt8] {
        var bytes = original
        for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: bytes[index] = Self.interesting.randomElement(using: &random)!
            case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 2: bytes.remove(at: index)
            case 3: bytes.insert(Self.interesting.randomElement(using: &random)!, at: index)
            case 4: bytes.removeSubrange(index...)
            default:
                let end = min(bytes.count, index + Int.random(in: 1...12, using: &random))
                bytes.insert(contentsOf: bytes[index..<end], at: Int.random(in: 0...bytes.count, using: &random))
            }
        }
        return bytes
    }

    /// A value of any type; nested containers only while `depth` (the level holding it) is below the bound.
    private mutating func value(depth: Int) -> StrictJSONObject.Value {
        let canNest = depth < StrictJSONObject.maximumDepth
        switch Int.random(in: 0..<(canNest ? 10 : 8), using: &random) {
        case 0...3:
            let text = randomString()
            string(text)
            return .string(text)
        case 4:
            literal("null")
            return .null
        case 5:
            literal(Bool.random(using: &random) ? "true" : "false")
            return .other(.boolean)
        case 6, 7:
            literal(number())
            return .other(.number)
        case 8:
            container(open: "[", close: "]", depth: depth) { generator in _ = generator.value(depth: depth + 1) }
            return .other(.array)
        default:
            container(open: "{", close: "}", depth: depth) { generator in
                generator.string(generator.randomString())
                generator.whitespace()
                generator.out.append(UInt8(ascii: ":"))
                generator.whitespace()
                _ = generator.value(depth: depth + 1)
            }
            return .other(.object)
        }
    }

    private mutating func container(open: Character, close: Character, depth: Int, element: (inout Self) -> Void) {
        out.append(open.asciiValue!)
        whitespace()
        for index in 0..<Int.random(in: 0...3, using: &random) {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            whitespace()
            element(&self)
            whitespace()
        }
        out.append(close.asciiValue!)
    }

    private mutating func randomString() -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...10, using: &random) { text.unicodeScalars.append(Self.scalars.randomElement(using: &random)!) }
        return text
    }

    /// `text` as a JSON string, each scalar spelt one of the ways the grammar allows.
    private mutating func string(_ text: String) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            let short: UInt8? = switch scalar {
            case "\"": UInt8(ascii: "\"")
            case "\\": UInt8(ascii: "\\")
            case "/": UInt8(ascii: "/")
            case "\u{8}": UInt8(ascii: "b")
            case "\u{C}": UInt8(ascii: "f")
            case "\n": UInt8(ascii: "n")
            case "\r": UInt8(ascii: "r")
            case "\t": UInt8(ascii: "t")
            default: nil
            }
            let rawAllowed = scalar.value >= 0x20 && scalar != "\"" && scalar != "\\"
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where rawAllowed: out.append(contentsOf: String(scalar).utf8)
            case 1 where short != nil: out.append(contentsOf: [UInt8(ascii: "\\"), short!])
            default:
                let uppercase = Bool.random(using: &random)
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16, uppercase: uppercase)
                    out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A number of RFC 8259's grammar, within a double's range.
    private mutating func number() -> String {
        var text = Bool.random(using: &random) ? "-" : ""
        text += Int.random(in: 0..<4, using: &random) == 0 ? "0" : String(Int.random(in: 1...999_999, using: &random))
        if Bool.random(using: &random) { text += "." + String(Int.random(in: 0...9_999, using: &random)) }
        if Bool.random(using: &random) {
            text += ["e", "E"].randomElement(using: &random)! + ["", "+", "-"].randomElement(using: &random)!
            text += String(Int.random(in: 0...99, using: &random))
        }
        return text
    }

    private mutating func literal(_ text: String) { out.append(contentsOf: text.utf8) }

    private mutating func whitespace() {
        for _ in 0..<[0, 0, 0, 1, 2].randomElement(using: &random)! { out.append(Array(" \t\n\r".utf8).randomElement(using: &random)!) }
    }
}
