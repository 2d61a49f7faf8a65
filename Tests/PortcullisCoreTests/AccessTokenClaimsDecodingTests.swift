import Foundation
import PortcullisCore
import Testing

/// `AccessTokenClaims(strictJSON:)`, the decoder on the verify path, against `JSONDecoder` and the
/// `Codable` conformance it replaced there (seeded inputs: every run sees the same ones).
@Suite struct AccessTokenClaimsDecodingTests {
    static func strict(_ bytes: [UInt8]) -> Result<AccessTokenClaims, PortcullisError> {
        Result { () throws(PortcullisError) in try AccessTokenClaims(strictJSON: bytes) }
    }

    static func foundation(_ bytes: [UInt8]) -> AccessTokenClaims? {
        try? JSONDecoder().decode(AccessTokenClaims.self, from: Data(bytes))
    }

    static let malformed = Result<AccessTokenClaims, PortcullisError>.failure(.invalidToken("malformed claims"))

    @Test func agreesWithJSONDecoderOnGeneratedClaimSets() throws {
        var writer = ClaimsWriter(seed: 0xC1A1_7515)
        for _ in 0..<2_000 {
            let (claims, bytes) = writer.claimSet()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(Self.foundation(bytes) == claims, "JSONDecoder reads \(text) differently")
            #expect(Self.strict(bytes) == .success(claims), "\(text)")
        }
    }

    @Test func readsClaimsAsTheSignerEncodesThem() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let minted = [
            AccessTokenClaims(iss: "https://auth.example/", sub: "u-1", aud: Audience(["https://auth.example/"]), exp: 1_767_225_900,
                              iat: 1_767_225_600, nbf: 1_767_225_600, jti: "j", username: "zoë", roles: ["admin", "ops"],
                              scope: "openid profile", sid: "s-1", clientID: "web"),
            AccessTokenClaims(iss: "i", sub: "client", aud: Audience(["billing", "reports"]), exp: .max, iat: .min, nbf: 0,
                              jti: "\u{0}\"\\/\n🚪", username: nil, roles: [], scope: "", sid: nil),
        ]
        for claims in minted {
            #expect(Self.strict(Array(try encoder.encode(claims))) == .success(claims))
        }
    }

    /// `aud` keeps its values in order without duplicates, one value or several (one skips the set).
    @Test func anAudienceDropsRepeatedValuesAndKeepsItsOrder() throws {
        let read = { (aud: String) throws in
            try AccessTokenClaims(strictJSON: Array(#"{"iss":"i","sub":"s","aud":\#(aud),"exp":2,"iat":1,"nbf":1,"jti":"j","roles":[],"scope":""}"#.utf8)).aud.values
        }
        #expect(try read(#""a""#) == ["a"])
        #expect(try read(#"["a"]"#) == ["a"])
        #expect(try read(#"[]"#) == [])
        #expect(try read(#"["b","a","b","c","a"]"#) == ["b", "a", "c"])
        #expect(Audience(["x", "x"]).values == ["x"])
    }

    @Test func refusesMalformedPayloads() {
        let valid = #""iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"nbf":1,"jti":"j","roles":[],"scope":"""#
        let cases: [String] = [
            "", "null", "[]", #""claims""#, "{}", "{" + valid,
            // Wrong types.
            "{" + valid.replacingOccurrences(of: #""iss":"i""#, with: #""iss":5"#) + "}",
            "{" + valid.replacingOccurrences(of: #""iss":"i""#, with: #""iss":null"#) + "}",
            "{" + valid.replacingOccurrences(of: #""exp":2"#, with: #""exp":"2""#) + "}",
            "{" + valid.replacingOccurrences(of: #""exp":2"#, with: #""exp":null"#) + "}",
            "{" + valid.replacingOccurrences(of: #""exp":2"#, with: #""exp":true"#) + "}",
            "{" + valid.replacingOccurrences(of: #""aud":"a""#, with: #""aud":null"#) + "}",
            "{" + valid.replacingOccurrences(of: #""aud":"a""#, with: #""aud":["a",1]"#) + "}",
            "{" + valid.replacingOccurrences(of: #""aud":"a""#, with: #""aud":{"a":"b"}"#) + "}",
            "{" + valid.replacingOccurrences(of: #""roles":[]"#, with: #""roles":"admin""#) + "}",
            "{" + valid.replacingOccurrences(of: #""roles":[]"#, with: #""roles":null"#) + "}",
            "{" + valid.replacingOccurrences(of: #""roles":[]"#, with: #""roles":[["admin"]]"#) + "}",
            "{" + valid + #","username":7}"#,
            "{" + valid + #","sid":["s"]}"#,
            "{" + valid + #","client_id":false}"#,
            // Numbers out of range or not JSON.
            "{" + valid.replacingOccurrences(of: #""exp":2"#, with: #""exp":9223372036854775808"#) + "}",
            "{" + valid.replacingOccurrences(of: #""exp":2"#, with: #""exp":1.5"#) + "}",
            "{" + valid.replacingOccurrences(of: #""exp":2"#, with: #""exp":02"#) + "}",
            "{" + valid.replacingOccurrences(of: #""exp":2"#, with: #""exp":+2"#) + "}",
            // Not JSON: trailing bytes, a trailing comma, an unterminated string, a lone surrogate.
            "{" + valid + "} {}", "{" + valid + ",}", "{" + valid + #","x":"}"#,
            "{" + valid.replacingOccurrences(of: #""sub":"s""#, with: #""sub":"\udc00""#) + "}",
        ]
        for text in cases {
            #expect(Self.strict(Array(text.utf8)) == Self.malformed, "\(text)")
        }
        #expect(Self.strict(Array(("{" + valid + "}").utf8)).map(\.exp) == .success(2), "the base of the cases is valid")
        let invalidUTF8 = Array(("{" + valid.replacingOccurrences(of: #""sub":"s","#, with: "") + #","sub":"#).utf8) + [0x22, 0xC3, 0x28, 0x22, 0x7D]
        #expect(Self.strict(invalidUTF8) == Self.malformed)
    }

    /// What `JSONDecoder` takes and we refuse, on purpose: these are tokens we minted ourselves.
    @Test func refusesWhatJSONDecoderIsLenientAbout() {
        let valid = #""iss":"i","sub":"s","aud":"a","iat":1,"nbf":1,"jti":"j","roles":[],"scope":"""#
        let deep = String(repeating: "[", count: 8) + String(repeating: "]", count: 8)
        let lenient: [[UInt8]] = [
            // Whole numbers written with a fraction or an exponent.
            Array(("{" + valid + #","exp":2.0}"#).utf8), Array(("{" + valid + #","exp":2e0}"#).utf8),
            Array(("{" + valid + #","exp":-0.0}"#).utf8), Array(("{" + valid + #","exp":200E-2}"#).utf8),
            // A duplicate name (JSONDecoder keeps the first), a byte order mark, nesting past the bound.
            Array(("{" + valid + #","exp":2,"exp":3}"#).utf8), Array(("{" + valid + #","exp":2,"\u0073ub":"t"}"#).utf8),
            [0xEF, 0xBB, 0xBF] + Array(("{" + valid + #","exp":2}"#).utf8),
            Array(("{" + valid + #","exp":2,"x":"# + deep + "}").utf8),
            // Bytes that are not UTF-8 in a member JSONDecoder does not read.
            Array(("{" + valid + #","exp":2,"x":"#).utf8) + [0x22, 0xC3, 0x28, 0x22, 0x7D],
            // More members than the bound.
            Array(("{" + valid + #","exp":2,"# + (0..<60).map { "\"x\($0)\":0" }.joined(separator: ",") + "}").utf8),
        ]
        for bytes in lenient {
            #expect(Self.foundation(bytes) != nil, "JSONDecoder now refuses \(String(decoding: bytes, as: UTF8.self))")
            #expect(Self.strict(bytes) == Self.malformed, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }
}

/// Writes random claim sets as JSON: members in any order, optional ones absent, `null` or set,
/// `aud` as a string or an array, unknown members of every type, whitespace, and strings with
/// every spelling the grammar allows (raw UTF-8, short escapes, `\u` escapes, surrogate pairs).
struct ClaimsWriter {
    var random: SeededRandom
    private var out: [UInt8] = []

    init(seed: UInt64) { random = SeededRandom(state: seed) }

    static let scalars: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{8}", "\n", "\t", "\u{1F}", "\u{7F}",
                                            "é", "€", "\u{2028}", "\u{FFFF}", "🚪", "\u{10FFFF}", "\u{301}", ":", "."]
    static let integers: [Int64] = [.min, .min + 1, -1, 0, 1, 1_767_225_600, 4_102_444_800, .max - 1, .max]
    static let unknown = [#"null"#, #"true"#, #"-1.5e-3"#, #"1e400"#, #"[]"#, #"{"a":[{"b":null}]}"#, #""\ud83d\udeaa""#, #"[1,"x",false]"#]

    mutating func claimSet() -> (AccessTokenClaims, [UInt8]) {
        let audience = (0..<Int.random(in: 1...4, using: &random)).map { _ in text() }
        let claims = AccessTokenClaims(
            iss: text(), sub: text(), aud: Audience(audience), exp: integer(), iat: integer(), nbf: integer(), jti: text(),
            username: Bool.random(using: &random) ? text() : nil, roles: (0..<Int.random(in: 0...3, using: &random)).map { _ in text() },
            scope: text(), sid: Bool.random(using: &random) ? text() : nil, clientID: Bool.random(using: &random) ? text() : nil)
        var members: [(String, (inout Self) -> Void)] = [
            ("iss", { $0.string(claims.iss) }), ("sub", { $0.string(claims.sub) }), ("jti", { $0.string(claims.jti) }),
            ("scope", { $0.string(claims.scope) }), ("exp", { $0.literal(String(claims.exp)) }),
            ("iat", { $0.literal(String(claims.iat)) }), ("nbf", { $0.literal(String(claims.nbf)) }),
            ("roles", { $0.array(claims.roles) }),
            ("aud", { writer in
                if audience.count == 1, Bool.random(using: &writer.random) { writer.string(audience[0]) } else { writer.array(audience) }
            }),
        ]
        for (name, value) in [("username", claims.username), ("sid", claims.sid), ("client_id", claims.clientID)] {
            if let value {
                members.append((name, { $0.string(value) }))
            } else if Bool.random(using: &random) {
                members.append((name, { $0.literal("null") }))
            }
        }
        for index in 0..<Int.random(in: 0...2, using: &random) {
            let value = Self.unknown.randomElement(using: &random)!
            members.append(("x\(index)", { $0.literal(value) }))
        }
        out = []
        whitespace()
        out.append(UInt8(ascii: "{"))
        for (index, (name, write)) in members.shuffled(using: &random).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            whitespace()
            string(name)
            whitespace()
            out.append(UInt8(ascii: ":"))
            whitespace()
            write(&self)
            whitespace()
        }
        out.append(UInt8(ascii: "}"))
        whitespace()
        return (claims, out)
    }

    private mutating func text() -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...8, using: &random) { text.unicodeScalars.append(Self.scalars.randomElement(using: &random)!) }
        return text
    }

    private mutating func integer() -> Int64 {
        Bool.random(using: &random) ? Self.integers.randomElement(using: &random)! : Int64.random(in: .min ... .max, using: &random)
    }

    private mutating func array(_ strings: [String]) {
        out.append(UInt8(ascii: "["))
        for (index, text) in strings.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            whitespace()
            string(text)
            whitespace()
        }
        out.append(UInt8(ascii: "]"))
    }

    /// `text` as a JSON string, each scalar spelt one of the ways the grammar allows.
    private mutating func string(_ text: String) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            let short: Character? = switch scalar {
            case "\"": "\""
            case "\\": "\\"
            case "/": "/"
            case "\u{8}": "b"
            case "\n": "n"
            case "\t": "t"
            default: nil
            }
            let rawAllowed = scalar.value >= 0x20 && scalar != "\"" && scalar != "\\"
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where rawAllowed: out.append(contentsOf: String(scalar).utf8)
            case 1 where short != nil: out.append(contentsOf: [UInt8(ascii: "\\"), short!.asciiValue!])
            default:
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16, uppercase: Bool.random(using: &random))
                    out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private mutating func literal(_ text: String) { out.append(contentsOf: text.utf8) }

    private mutating func whitespace() {
        for _ in 0..<[0, 0, 0, 1, 2].randomElement(using: &random)! { out.append(Array(" \t\n\r".utf8).randomElement(using: &random)!) }
    }
}

/// SplitMix64: a small, seedable generator, so failures replay.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
