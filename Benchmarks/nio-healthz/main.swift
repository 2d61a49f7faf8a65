// The lean-NIO ceiling for `GET /healthz`: what SwiftNIO's HTTP/1.1 stack alone serves on this
// machine, measured beside nginx by bench/scenarios/baselines.py.
//
//   nio-healthz PORT [HOST]
//
// NIO's HTTP/1.1 pipeline (`configureHTTPServerPipeline`) and one handler that answers every
// request, whatever its method or path, with a pre-built 200 `{"status":"ok"}`: no routing, no
// middleware, no async bridge. One event loop per core (`MultiThreadedEventLoopGroup.singleton`).
// Bench tooling only: it is a baseline, not part of the server.
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Answers each request with the same response, once the request has been read to its end.
final class HealthzHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The body and both heads are built once (on first use) and shared by every connection.
    private static let body: ByteBuffer = ByteBuffer(string: #"{"status":"ok"}"#)
    private static let keepAliveHead = head(connection: "keep-alive")
    private static let closeHead = head(connection: "close")

    private static func head(connection: String) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: .ok, headers: [
            "content-type": "application/json",
            "content-length": String(body.readableBytes),
            "connection": connection,
        ])
    }

    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            keepAlive = request.isKeepAlive
        case .body:
            break
        case .end:
            context.write(wrapOutboundOut(.head(keepAlive ? Self.keepAliveHead : Self.closeHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(Self.body))), promise: nil)
            if keepAlive {
                context.write(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
            }
        }
    }

    // One flush per read batch, not per response: how NIO servers usually answer.
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

let arguments = CommandLine.arguments
guard (2...3).contains(arguments.count), let port = Int(arguments[1]), (0...65535).contains(port) else {
    let usage = "usage: nio-healthz PORT [HOST]\n"
    _ = usage.withCString { write(2, $0, strlen($0)) }
    exit(2)
}
let host = arguments.count == 3 ? arguments[2] : "127.0.0.1"

let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            // The handler answers each request before it reads the next, so responses stay in
            // order without NIO's pipelining handler (Hummingbird also runs without it).
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
            try channel.pipeline.syncOperations.addHandler(HealthzHandler())
        }
    }

let channel = try bootstrap.bind(host: host, port: port).wait()
// Written unbuffered: the bench reads it through a pipe, where print() would sit in a buffer.
let banner = "nio-healthz listening on \(host):\(channel.localAddress?.port ?? port) with \(NIOSingletons.groupLoopCountSuggestion) event loops\n"
_ = banner.withCString { write(1, $0, strlen($0)) }
try channel.closeFuture.wait()
