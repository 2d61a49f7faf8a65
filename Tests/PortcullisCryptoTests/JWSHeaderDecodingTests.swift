import Foundation
import PortcullisCrypto
import Testing

/// `JWSHeader(strictJSON:)` against the `JSONSerialization` code `JS.parse` used before it, kept
/// here as the reference: same header or same `CryptoError` on every header both read as JSON,
/// and refusals of the reference's leniencies only where they are listed.
@Suite struct JWSHeaderDecodingTests {
    /// `JWS.parse`'s header step as it was, with Foundation.
    static func reference(_ bytes: [UInt8]) -> Result<JWSHeader, CryptoError> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let alg = object["alg"] as? String else {
            return .failure(.malformed("header is not a JSON object with alg"))
        }
        guard object["crit"] == nil else { return .failure(.malformed("unsupported crit header")) }
        func optionalString(_ name: String) -> String?? {
            switch object[name] {
            case nil, is NSNull: return .some(nil)
            case let value as String: return value
            default: return nil
            }
        }
        guard let kid = optionalString("kid"), let typ = optionalString("typ") else {
            return .failure(.malformed("header members have wrong types"))
        }
        return .success(JWSHeader(alg: alg, kid: kid, typ: typ))
    }

    static func strict(_ bytes: [UInt8]) -> Result<JWSHeader, CryptoError> {
        Result { () throws(CryptoError) in try JWSHeader(strictJSON: bytes) }
    }

    @Test func agreesWithTheFoundationReferenceOnEveryCombinationOfMembers() {
        // nil: the member is absent.
        let values: [String?] = [nil, #""ES256""#, #""EdDSA""#, #""at+jwt""#, #""k-\u00e9\ud83d\udeaa\n\"""#, #""""#, #""\/""#,
                                 "null", "5", "-1.5e3", "true", "[]", #"["exp"]"#, #"{"a":"b"}"#]
        let extras = ["", #""x5u":null"#, #""crit":["exp"]"#, #""crit":null"#, #""ALG":"none""#, #""\u00e9":{"alg":[1]}"#]
        var accepted = 0, index = 0
        for alg in values {
            for kid in values {
                for typ in values {
                    index += 1
                    let spelling = index % 2 == 0 ? #""alg""# : #""\u0061lg""#
                    var members = [alg.map { spelling + ":" + $0 }, kid.map { #""kid" : "# + $0 }, typ.map { "\"typ\":\n\t" + $0 }]
                        .compactMap { $0 }
                    let extra = extras[index % extras.count]
                    if !extra.isEmpty { members.insert(extra, at: index % (members.count + 1)) }
                    // Every order of the members comes up across the combinations.
                    if index % 3 == 1 { members.reverse() }
                    let bytes = Array(("{" + members.joined(separator: ",") + "}").utf8)
                    let strict = Self.strict(bytes)
                    #expect(strict == Self.reference(bytes), "\(String(decoding: bytes, as: UTF8.self))")
                    if case .success = strict { accepted += 1 }
                }
            }
        }
        #expect(accepted > 100, "too few accepted headers to prove much")
    }

    @Test func readsTheHeadersOfEveryAlgorithmAsSigned() throws {
        for algorithm in [JWSAlgorithm.es256, .edDSA, .rs256] {
            let key = try SigningKey.generate(algorithm)
            let header = JWSHeader(alg: algorithm.rawValue, kid: "k/\u{e9}\"1", typ: "at+jwt")
            let token = try JWS.sign(payload: Array("{}".utf8), header: header, key: key)
            #expect(try JWS.parse(token).header == header)
            #expect(try JWS.verify(token) { $0 == header ? key : nil } == Array("{}".utf8))
        }
    }

    @Test func refusalsKeepTheirMessages() {
        let cases: [(String, String)] = [
            ("not json", "header is not a JSON object with alg"),
            (#"["alg"]"#, "header is not a JSON object with alg"),
            (#"{"typ":"JWT"}"#, "header is not a JSON object with alg"),
            (#"{"alg":5}"#, "header is not a JSON object with alg"),
            (#"{"alg":null}"#, "header is not a JSON object with alg"),
            (#"{"alg":"ES256","crit":["exp"]}"#, "unsupported crit header"),
            (#"{"alg":"ES256","crit":null}"#, "unsupported crit header"),
            (#"{"alg":"ES256","kid":7}"#, "header members have wrong types"),
            (#"{"alg":"ES256","typ":["at+jwt"]}"#, "header members have wrong types"),
        ]
        for (text, message) in cases {
            #expect(Self.strict(Array(text.utf8)) == .failure(.malformed(message)), "\(text)")
            #expect(Self.reference(Array(text.utf8)) == .failure(.malformed(message)), "\(text)")
        }
    }

    @Test func refusesWhatFoundationWasLenientAbout() {
        let deep = #"{"alg":"ES256","x":"# + String(repeating: "[", count: 8) + String(repeating: "]", count: 8) + "}"
        let lenient: [[UInt8]] = [
            Array(#"{"alg":"ES256","alg":"none"}"#.utf8),
            Array(#"{"alg":"ES256","kid":"a","kid":"b"}"#.utf8),
            [0xEF, 0xBB, 0xBF] + Array(#"{"alg":"ES256"}"#.utf8),
            Array(deep.utf8),
            Array(#"{"alg":"ES256"}"#.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] },
        ]
        for bytes in lenient {
            #expect((try? Self.reference(bytes).get()) != nil, "the reference reads \(bytes)")
            #expect(Self.strict(bytes) == .failure(.malformed("header is not a JSON object with alg")), "\(bytes)")
        }
        // Refused by both: what follows the object, a lone surrogate, bytes that are not UTF-8.
        for bytes in [Array(#"{"alg":"ES256"} x"#.utf8), Array(#"{"alg":"\ud800"}"#.utf8), Array(#"{"alg":""#.utf8) + [0xFF, 0x22, 0x7D]] {
            #expect(Self.strict(bytes) == .failure(.malformed("header is not a JSON object with alg")))
        }
    }
}
