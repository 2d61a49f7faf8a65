// The lean ceiling for a token check: what SwiftNIO's HTTP/1.1 stack and the signature check
// alone serve on this machine, measured beside Portcullis by bench/scenarios/verify.py.
//
//   nio-verify KEYS_DIR PORT [HOST]
//
// nio-healthz's pipeline, with a handler that takes the token out of a `{"token":"…"}` body,
// parses the compact JWS and checks its signature with the key its `kid` names (PortcullisCrypto,
// the same calls Portcullis makes), and answers a pre-built `{"active":true}` — or
// `{"active":false}`, which the bench counts as a wrong answer. No claims, no times, no
// revocation, no log line, no metrics: the work no token server can skip. The key ring is read
// once at start; connections stay open (wrk keeps them alive). Bench tooling only: it is a
// baseline, not part of the server.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PortcullisCore
import PortcullisCrypto

/// Checks the token of each request's body and answers whether its signature holds.
final class VerifyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let active = ByteBuffer(string: #"{"active":true}"#)
    private static let inactive = ByteBuffer(string: #"{"active":false}"#)
    private static let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: [
        "content-type": "application/json", "content-length": String(active.readableBytes),
    ])
    private static let inactiveHead = HTTPResponseHead(version: .http1_1, status: .ok, headers: [
        "content-type": "application/json", "content-length": String(inactive.readableBytes),
    ])
    private static let prefix = Array(#"{"token":""#.utf8)

    private let keys: [String: SigningKey]
    private var body = ByteBuffer()

    init(keys: [String: SigningKey]) {
        self.keys = keys
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            let holds = check()
            context.write(wrapOutboundOut(.head(holds ? Self.head : Self.inactiveHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(holds ? Self.active : Self.inactive))), promise: nil)
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    // One flush per read batch, as nio-healthz and Portcullis's hot path do.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// True when the body is `{"token":"JWS"}` and the JWS's signature holds under its `kid`'s key.
    private func check() -> Bool {
        body.withUnsafeReadableBytes { bytes in
            guard bytes.count > Self.prefix.count + 2, bytes.starts(with: Self.prefix),
                  let end = bytes[Self.prefix.count...].firstIndex(of: UInt8(ascii: "\"")) else { return false }
            let token = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[Self.prefix.count..<end]), as: UTF8.self)
            guard let parsed = try? JWS.parse(token) else { return false }
            return (try? JWS.verify(parsed) { header in header.kid.flatMap { keys[$0] } }) != nil
        }
    }
}

let arguments = CommandLine.arguments
guard (3...4).contains(arguments.count), let port = Int(arguments[2]), (0...65535).contains(port),
      let ring = try? KeyRingProvider(directory: KeyDirectory(path: arguments[1])).current() else {
    FileHandle.standardError.write(Data("usage: nio-verify KEYS_DIR PORT [HOST] (KEYS_DIR: a Portcullis key directory)\n".utf8))
    exit(2)
}
let host = arguments.count == 4 ? arguments[3] : "127.0.0.1"
let keys = ring.keys

let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
            try channel.pipeline.syncOperations.addHandler(VerifyHandler(keys: keys))
        }
    }

let channel = try bootstrap.bind(host: host, port: port).wait()
// Unbuffered: the bench reads it through a pipe.
FileHandle.standardOutput.write(Data("nio-verify listening on \(host):\(channel.localAddress?.port ?? port) with \(keys.count) keys\n".utf8))
try channel.closeFuture.wait()
