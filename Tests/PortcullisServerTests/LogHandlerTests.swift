import Foundation
import Logging
import NIOCore
import PortcullisCore
@testable import PortcullisServer
import Testing

@Suite struct LogHandlerTests {
    static let time = (seconds: 1_795_599_272, milliseconds: 45)

    static func line(_ format: LogFormat, _ message: String = "request", _ metadata: Logger.Metadata) -> String {
        String(buffer: PortcullisLogHandler.line(format: format, time: time, level: .info, label: "portcullis", message: message, metadata: metadata))
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for (seconds, milliseconds) in [(0, 0), (1_795_599_272, 45), (951_782_400, 999), (4_102_444_799, 7)] {
            var buffer = ByteBuffer()
            PortcullisLogHandler.writeTimestamp((seconds, milliseconds), into: &buffer)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000))
            #expect(String(buffer: buffer) == expected)
        }
    }

    @Test func jsonLinesAreOneObjectWithTheMetadataAndSurviveHostileValues() throws {
        let hostile = "a\"b\\c\nforged line\u{0}\u{1F}é"
        let text = Self.line(.json, "msg with \"quotes\"\n", [
            "path": .string(hostile), "status": .stringConvertible(200), "msg": .string("not the message"),
            "roles": .array([.string("admin"), .string("x\ny")]), "nested": .dictionary(["k": .string("v")]),
        ])
        #expect(text.hasSuffix("}\n"))
        #expect(text.dropLast().contains("\n") == false, "a value started a new line: \(text)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2026-11-25T09:34:32.045Z")
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "portcullis")
        #expect(object["msg"] as? String == "msg with \"quotes\"\n")
        #expect(object["fields.msg"] as? String == "not the message")
        #expect(object["path"] as? String == hostile)
        #expect(object["status"] as? String == "200")
        #expect(object["roles"] as? [String] == ["admin", "x\ny"])
        #expect((object["nested"] as? [String: String]) == ["k": "v"])
    }

    @Test func textValuesWithSpacesOrControlCharactersAreQuotedSoNoLineCanBeForged() {
        let text = Self.line(.text, "request\nfake 2026-01-01T00:00:00.000Z critical portcullis: owned", [
            "path": .string("/a b\n2026-01-01T00:00:00.000Z info portcullis: forged"), "status": .stringConvertible(200),
            "method": .string("GET"), "empty": .string(""), "eq": .string("k=v"),
        ])
        #expect(text.hasPrefix("2026-11-25T09:34:32.045Z info portcullis: request\\nfake 2026-01-01T00:00:00.000Z critical portcullis: owned "))
        #expect(text.dropLast().contains("\n") == false, "a value started a new line: \(text)")
        // Keys sorted; bare values stay bare, the rest are quoted with escapes.
        #expect(text.hasSuffix(#" empty="" eq="k=v" method=GET path="/a b\n2026-01-01T00:00:00.000Z info portcullis: forged" status=200"# + "\n"))
    }

    struct RejectedInput: Error, CustomStringConvertible {
        let input: String
        var description: String { "rejected \(input)" }
    }

    @Test func anAttachedErrorIsLoggedByItsTypeNeverByItsDescription() {
        let event = LogEvent(level: .error, message: "failed", error: RejectedInput(input: "hunter2-password"), metadata: ["route": "/v1/login"],
                             source: nil, file: #fileID, function: #function, line: #line)
        let metadata = PortcullisLogHandler.merged(["request_id": "r1"], event)
        #expect(metadata["error.type"]?.description.hasSuffix("RejectedInput") == true)
        #expect(metadata["request_id"] == "r1" && metadata["route"] == "/v1/login")
        let line = String(buffer: PortcullisLogHandler.line(format: .json, time: Self.time, level: .error, label: "portcullis",
                                                            message: "failed", metadata: metadata))
        #expect(!line.contains("hunter2"))
    }

    @Test func concurrentLinesReachTheFileWholeAndBelowTheLevelNothingIsWritten() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-log-\(UUID().uuidString)").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        try #require(descriptor >= 0)
        defer { close(descriptor); unlink(path) }
        let output = PortcullisLogHandler.Output(descriptor: descriptor)
        let logger = Logger(label: "portcullis") { label in PortcullisLogHandler(label: label, format: .json, level: .notice, output: output) }
        let padding = String(repeating: "x", count: 3000)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<250 {
                        logger.notice("line", metadata: ["task": "\(task)", "index": "\(index)", "padding": .string(padding)])
                        logger.info("below the level")
                    }
                }
            }
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2000)
        var seen = Set<String>()
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "torn line: \(line.prefix(80))")
            #expect(object["padding"] as? String == padding)
            seen.insert("\(object["task"]!)/\(object["index"]!)")
        }
        #expect(seen.count == 2000)
    }
}

@Suite struct RequestLineTests {
    /// `logRequest` (the one-pass writer) against `line` (the general one), for both formats, with
    /// handler metadata around and colliding with the fields, and a hostile path.
    @Test func theOnePassRequestLineIsTheGeneralLineByteForByte() throws {
        for time in [(seconds: 1_795_599_272, milliseconds: 45), (1_795_599_272, 999), (1_795_599_273, 0), (951_782_400, 7)] {
            try Self.compare(time: time)
        }
    }

    static func compare(time: (seconds: Int, milliseconds: Int)) throws {
        let fields = PortcullisLogHandler.RequestFields(client: "2001:db8::1", latency: "0.25", method: "POST",
                                                        path: "/v1/x y\"\n=forged", requestID: "id-1", status: 401)
        let handlerMetadata: [Logger.Metadata] = [[:], ["hb.request.id": "abc", "request_id": "stale", "msg": "m", "zz": .array(["a"])]]
        for format in [LogFormat.text, .json] {
            for metadata in handlerMetadata {
                var descriptors: [Int32] = [0, 0]
                #expect(pipe(&descriptors) == 0)
                defer { close(descriptors[0]) }
                var handler = PortcullisLogHandler(label: "portcullis", format: format, level: .info,
                                                   output: PortcullisLogHandler.Output(descriptor: descriptors[1]))
                handler.metadata = metadata
                handler.logRequest(fields, time: time)
                close(descriptors[1])
                var bytes = [UInt8](repeating: 0, count: 4096)
                let count = read(descriptors[0], &bytes, bytes.count)
                var event = metadata
                for (key, value) in fields.pairs { event[key] = key == "status" ? .stringConvertible(fields.status) : .string(value) }
                let expected = PortcullisLogHandler.line(format: format, time: time, level: .info, label: "portcullis", message: "request",
                                                         metadata: event)
                #expect(String(decoding: bytes[..<max(count, 0)], as: UTF8.self) == String(buffer: expected), "\(format) \(metadata)")
            }
        }
    }
}
