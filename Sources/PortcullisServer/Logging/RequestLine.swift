public import Logging
import NIOCore
import NIOPosix
import PortcullisCore

extension PortcullisLogHandler {
    /// One request's fields, in the order they are written (sorted, as every line's keys are).
    package struct RequestFields: Sendable {
        let client: String
        let latency: String
        let method: String
        let path: String
        let requestID: String
        let status: Int

        /// (key, value) in key order.
        var pairs: [(String, String)] {
            [("client", client), ("latency_ms", latency), ("method", method), ("path", path), ("request_id", requestID), ("status", String(status))]
        }
    }

    /// Writes the `request` line at `info` into the thread's reused buffer and hands it to
    /// `Output.writeSoon`: the bytes `log` writes for `logger.info("request", metadata: …)` with these
    /// fields on top of the handler's metadata. A handler without metadata (the hot path's) writes it
    /// in one pass from the fields; one with metadata goes through `line`. Nothing when `info` is off.
    package func logRequest(_ fields: RequestFields, time: (seconds: Int, milliseconds: Int) = now()) {
        guard logLevel <= .info else { return }
        output.writeSoon { buffer in
            guard metadata.isEmpty else {
                // The router's logger carries metadata of its own: the general formatter, fields on top.
                var merged = metadata
                for (key, value) in fields.pairs { merged[key] = key == "status" ? .stringConvertible(fields.status) : .string(value) }
                var line = Self.line(format: format, time: time, level: .info, label: label, message: "request", metadata: merged)
                buffer.writeBuffer(&line)
                return
            }
            writeRequestLine(fields, time: time, into: &buffer)
        }
    }
}

extension PortcullisLogHandler {
    /// The request line of a handler without metadata (the hot path's), straight from the fields.
    private func writeRequestLine(_ fields: RequestFields, time: (seconds: Int, milliseconds: Int), into buffer: inout ByteBuffer) {
        switch format {
        case .text:
            Self.writeCachedTimestamp(time, into: &buffer)
            buffer.writeStaticString(" info ")
            Self.writeTextValue(label, into: &buffer)
            buffer.writeStaticString(": request client=")
            Self.writeTextValue(fields.client, into: &buffer)
            buffer.writeStaticString(" latency_ms=")
            Self.writeTextValue(fields.latency, into: &buffer)
            buffer.writeStaticString(" method=")
            Self.writeTextValue(fields.method, into: &buffer)
            buffer.writeStaticString(" path=")
            Self.writeTextValue(fields.path, into: &buffer)
            buffer.writeStaticString(" request_id=")
            Self.writeTextValue(fields.requestID, into: &buffer)
            buffer.writeStaticString(" status=")
            buffer.writeString(String(fields.status))
        case .json:
            buffer.writeStaticString("{\"ts\":\"")
            Self.writeCachedTimestamp(time, into: &buffer)
            buffer.writeStaticString("\",\"level\":\"info\",\"label\":")
            buffer.writeJSONString(label)
            buffer.writeStaticString(",\"msg\":\"request\",\"client\":")
            buffer.writeJSONString(fields.client)
            buffer.writeStaticString(",\"latency_ms\":")
            buffer.writeJSONString(fields.latency)
            buffer.writeStaticString(",\"method\":")
            buffer.writeJSONString(fields.method)
            buffer.writeStaticString(",\"path\":")
            buffer.writeJSONString(fields.path)
            buffer.writeStaticString(",\"request_id\":")
            buffer.writeJSONString(fields.requestID)
            buffer.writeStaticString(",\"status\":\"")
            buffer.writeString(String(fields.status))
            buffer.writeStaticString("\"}")
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// The calling thread's last timestamp text, up to the seconds.
    private final class SecondText {
        var second = -1
        var text = ByteBufferAllocator().buffer(capacity: 20)
    }

    // Each thread reads and writes only its own.
    nonisolated(unsafe) private static let secondTexts = ThreadSpecificVariable<SecondText>()

    /// `writeTimestamp`, formatting the date and time once per second per thread.
    static func writeCachedTimestamp(_ time: (seconds: Int, milliseconds: Int), into buffer: inout ByteBuffer) {
        let cache = secondTexts.currentValue ?? {
            let made = SecondText()
            secondTexts.currentValue = made
            return made
        }()
        if cache.second != time.seconds {
            cache.text.clear()
            writeTimestamp((time.seconds, 0), into: &cache.text)
            cache.text.moveWriterIndex(to: cache.text.writerIndex - 5)  // drop ".000Z"
            cache.second = time.seconds
        }
        buffer.writeImmutableBuffer(cache.text)
        buffer.writeInteger(UInt8(ascii: "."))
        let milliseconds = time.milliseconds
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(milliseconds / 100))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        buffer.writeInteger(UInt8(ascii: "0") + UInt8(milliseconds % 10))
        buffer.writeInteger(UInt8(ascii: "Z"))
    }
}

extension PortcullisLogHandler.Output {
    /// Lines written on one event-loop thread during one turn of its loop, written together.
    private final class Batch {
        var buffer = ByteBufferAllocator().buffer(capacity: 16 * 1024)
        var scheduled = false
    }

    // Each thread reads and writes only its own batch.
    nonisolated(unsafe) private static let batches = ThreadSpecificVariable<Batch>()

    /// Appends a line built by `build`. On a NIO event loop the line joins the loop's batch, which
    /// is written with one `write(2)` when the loop finishes what it is doing now (microseconds
    /// later, before it waits for more I/O); elsewhere it is written at once.
    func writeSoon(_ build: (inout ByteBuffer) -> Void) {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            var line = ByteBufferAllocator().buffer(capacity: 256)
            build(&line)
            writeLine(line)
            return
        }
        let batch = Self.batches.currentValue ?? {
            let made = Batch()
            Self.batches.currentValue = made
            return made
        }()
        build(&batch.buffer)
        guard !batch.scheduled else { return }
        batch.scheduled = true
        loop.assumeIsolated().execute {
            self.writeLine(batch.buffer)
            batch.buffer.clear()
            batch.scheduled = false
        }
    }
}
