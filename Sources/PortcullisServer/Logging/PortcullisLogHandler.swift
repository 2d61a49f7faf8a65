#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
public import Logging
import NIOCore
public import PortcullisCore
import Synchronization

/// The server's log handler: one line per event on standard error, as `text`
/// (`2026-11-25T10:45:17.123Z info portcullis: request key=value …`) or as `json` (one object per
/// line: `ts`, `level`, `label`, `msg`, then the metadata's keys).
///
/// Every value is escaped, so nothing a client sends can start a forged line: in text, values
/// with spaces, quotes, `=` or control characters are quoted with `\n`-style escapes; in JSON,
/// strings follow RFC 8259. Each line reaches the file descriptor in one `write(2)` under a
/// lock, so lines from concurrent requests never interleave.
public struct PortcullisLogHandler: LogHandler {
    /// Where lines go, shared by every handler of one process.
    public final class Output: Sendable {
        let descriptor: Int32
        private let lock = Mutex<Void>(())

        /// Lines written to `descriptor` (standard error by default); the descriptor is not closed.
        public init(descriptor: Int32 = 2) {
            self.descriptor = descriptor
        }

        func writeLine(_ line: ByteBuffer) {
            lock.withLock { _ in
                line.withUnsafeReadableBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                        if written > 0 {
                            offset += written
                        } else if written < 0 && errno == EINTR {
                            continue
                        } else {
                            return  // a closed or full log sink must not take the server down
                        }
                    }
                }
            }
        }
    }

    let label: String
    let format: LogFormat
    let output: Output
    /// Metadata added to every line of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Lines below this level are dropped before they are formatted.
    public var logLevel: Logger.Level

    /// A handler for the logger `label`.
    public init(label: String, format: LogFormat, level: Logger.Level, output: Output) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
    }

    /// Installs this handler for every logger of the process (call once, at start).
    public static func bootstrap(format: LogFormat, level: Logger.Level, output: Output = Output()) {
        LoggingSystem.bootstrap { label in PortcullisLogHandler(label: label, format: format, level: level, output: output) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output.writeLine(Self.line(format: format, time: Self.now(), level: event.level, label: label,
                                   message: event.message.description, metadata: Self.merged(metadata, event)))
    }

    /// The logger's metadata with the event's on top, and an attached error's type (never its
    /// description, which may quote input).
    static func merged(_ base: Logger.Metadata, _ event: LogEvent) -> Logger.Metadata {
        var merged = base
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error.type"] = .string(String(reflecting: type(of: error))) }
        return merged
    }

    /// Wall-clock time as (seconds, milliseconds) since 1970.
    static func now() -> (seconds: Int, milliseconds: Int) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return (spec.tv_sec, spec.tv_nsec / 1_000_000)
    }

    /// One formatted line, ending in a newline.
    static func line(format: LogFormat, time: (seconds: Int, milliseconds: Int), level: Logger.Level, label: String,
                     message: String, metadata: Logger.Metadata) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        let keys = metadata.keys.sorted()
        switch format {
        case .text:
            writeTimestamp(time, into: &buffer)
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeString(level.rawValue)
            buffer.writeInteger(UInt8(ascii: " "))
            writeTextValue(label, into: &buffer)
            buffer.writeStaticString(": ")
            writeTextEscaped(message, into: &buffer)
            for key in keys {
                buffer.writeInteger(UInt8(ascii: " "))
                writeTextValue(key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: "="))
                writeTextValue(metadata[key]!.description, into: &buffer)
            }
        case .json:
            buffer.writeStaticString("{\"ts\":\"")
            writeTimestamp(time, into: &buffer)
            buffer.writeStaticString("\",\"level\":")
            buffer.writeJSONString(level.rawValue)
            buffer.writeStaticString(",\"label\":")
            buffer.writeJSONString(label)
            buffer.writeStaticString(",\"msg\":")
            buffer.writeJSONString(message)
            for key in keys {
                buffer.writeInteger(UInt8(ascii: ","))
                // A metadata key never overwrites the line's own fields.
                switch key {
                case "ts", "level", "label", "msg": buffer.writeJSONString("fields." + key)
                default: buffer.writeJSONString(key)
                }
                buffer.writeInteger(UInt8(ascii: ":"))
                writeJSONValue(metadata[key]!, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// `2026-11-25T10:45:17.123Z` (UTC).
    static func writeTimestamp(_ time: (seconds: Int, milliseconds: Int), into buffer: inout ByteBuffer) {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int32, _ count: Int) {
            var divisor: Int32 = 1
            for _ in 1..<count { divisor *= 10 }
            var value = value
            while divisor > 0 {
                buffer.writeInteger(UInt8(ascii: "0") + UInt8(value / divisor))
                value %= divisor
                divisor /= 10
            }
        }
        digits(parts.tm_year + 1900, 4)
        buffer.writeInteger(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        buffer.writeInteger(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        buffer.writeInteger(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        buffer.writeInteger(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        buffer.writeInteger(UInt8(ascii: "."))
        digits(Int32(time.milliseconds), 3)
        buffer.writeInteger(UInt8(ascii: "Z"))
    }

    /// A text value: bare when it is non-empty and has no space, quote, `=` or control
    /// character; otherwise quoted and escaped.
    static func writeTextValue(_ value: String, into buffer: inout ByteBuffer) {
        let bare = !value.isEmpty && !value.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\\") }
        if bare {
            buffer.writeString(value)
        } else {
            buffer.writeJSONString(value)
        }
    }

    /// A free-text message: spaces kept, control characters and backslashes escaped (no quotes).
    static func writeTextEscaped(_ value: String, into buffer: inout ByteBuffer) {
        if value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\\") }) {
            buffer.writeJSONStringContents(value)
        } else {
            buffer.writeString(value)
        }
    }

    static func writeJSONValue(_ value: Logger.Metadata.Value, into buffer: inout ByteBuffer) {
        switch value {
        case .string(let string):
            buffer.writeJSONString(string)
        case .stringConvertible(let convertible):
            buffer.writeJSONString(convertible.description)
        case .array(let values):
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                writeJSONValue(element, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            buffer.writeInteger(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                buffer.writeJSONString(key)
                buffer.writeInteger(UInt8(ascii: ":"))
                writeJSONValue(dictionary[key]!, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }
}
