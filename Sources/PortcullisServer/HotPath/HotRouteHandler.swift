import Hummingbird
import NIOCore
import NIOHTTP1
import PortcullisCore

/// Answers the hot routes (`HotRoutes`) on the event loop, right after NIO's HTTP/1.1 decoder,
/// and passes every other request on, unchanged, to Hummingbird's router.
///
/// A request is taken here only when it is simple: HTTP/1.1 keep-alive, no `Transfer-Encoding`,
/// `Expect` or `Upgrade`, a body no larger than the server's limit, and nothing handed to the
/// router still unanswered on this connection (so responses keep their order). Everything else
/// goes to the router, which has the same routes. A request whose route cannot answer without
/// waiting (`HotRoute.answerImmediately` nil: a database read, a key-ring reload) gets the route's
/// waiting answer in a task, under the router's deadline, without the router's machinery;
/// meanwhile the connection's later requests are held, unread, and taken in order once the answer
/// is written. The shared components (`InFlightRequests`, `RequestDeadlines`, `SecurityHeaders`,
/// `RequestIdentifier`, `RequestRecorder`, the error shape) make the two paths' answers the same bytes.
final class HotRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// The current request is the router's.
        case passing
        /// A hot request, read so far.
        case reading(route: HotRoute, head: HTTPRequestHead, body: ByteBuffer?, started: ContinuousClock.Instant)
    }

    private let routes: HotRoutes
    private let shared: HotPathComponents
    private var state = State.idle
    /// Requests handed to the router whose response has not ended yet.
    private var routerPending = 0
    /// A hot answer is being waited for: later request parts are held, and reads postponed.
    private var waiting = false
    /// Request parts that came while `waiting`, in order.
    private var held = CircularBuffer<HTTPServerRequestPart>()
    /// A read the channel asked for while `waiting`.
    private var readPostponed = false
    /// False once the handler is out of the pipeline (its context is then unusable).
    private var inPipeline = true
    /// The connection's peer address as text, made at its first hot request (a connection's peer
    /// never changes; formatting it cost a `remoteAddress` lock and an `inet_ntop` per request).
    private var peer: String??

    /// The context of NIO's response encoder: the hot path's answers, encoded here, are written
    /// from it (past the encoder, which takes only the router's response parts). Nil once removed.
    private var wire: ChannelHandlerContext?
    /// The connection's idle and graceful-close rule, which counts the hot path's responses too.
    private let lifetime: ConnectionLifetimeHandler

    /// A handler answering `routes`, writing below `wire` (the response encoder's context) and
    /// counting its responses in `lifetime` (the handler in front of it).
    init(routes: HotRoutes, shared: HotPathComponents, wire: ChannelHandlerContext, lifetime: ConnectionLifetimeHandler) {
        self.routes = routes
        self.shared = shared
        self.wire = wire
        self.lifetime = lifetime
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        inPipeline = false
        wire = nil  // the pipeline holds the handlers, not the other way round
    }

    func read(context: ChannelHandlerContext) {
        if waiting {
            readPostponed = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if waiting {
            held.append(part)
        } else {
            take(context, part)
        }
    }

    private func take(_ context: ChannelHandlerContext, _ part: HTTPServerRequestPart) {
        let data = wrapInboundOut(part)
        switch part {
        case .head(let head):
            if routerPending == 0, let route = hotRoute(for: head) {
                state = .reading(route: route, head: head, body: nil, started: .now)
            } else {
                pass(context, data)
            }
        case .body(let chunk):
            guard case .reading(let route, let head, var body, let started) = state else {
                context.fireChannelRead(data)
                return
            }
            if body == nil {
                body = chunk
            } else {
                body!.writeImmutableBuffer(chunk)
            }
            if body!.readableBytes > PortcullisRequestContext.bodyLimit {
                handOver(context, head: head, body: body)  // the router answers 413
            } else {
                state = .reading(route: route, head: head, body: body, started: started)
            }
        case .end:
            guard case .reading(let route, let head, let body, let started) = state else {
                state = .idle
                context.fireChannelRead(data)
                return
            }
            state = .idle
            answer(context, route: route, head: head, body: body ?? context.channel.allocator.buffer(capacity: 0), started: started)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routerPending -= 1 }
        context.write(data, promise: promise)
    }

    /// The hot route this request head asks for, if it is one the hot path takes.
    private func hotRoute(for head: HTTPRequestHead) -> HotRoute? {
        guard head.version == .http1_1, head.isKeepAlive else { return nil }
        let path = head.uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { head.uri[..<$0] } ?? head.uri[...]
        let method: HTTPRequest.Method
        switch head.method {
        case .GET: method = .get
        case .POST: method = .post
        default: return nil
        }
        guard let route = routes.route(method: method, path: path) else { return nil }
        let headers = head.headers
        guard !headers.contains(name: "transfer-encoding"), !headers.contains(name: "expect"), !headers.contains(name: "upgrade") else { return nil }
        if let length = headers.first(name: "content-length") {
            guard let bytes = Int(length), bytes <= PortcullisRequestContext.bodyLimit, method == .post || bytes == 0 else { return nil }
        }
        return route
    }

    private func pass(_ context: ChannelHandlerContext, _ data: NIOAny) {
        routerPending += 1
        state = .passing
        context.fireChannelRead(data)
    }

    /// Gives a hot request read so far to the router (its end, if read, follows).
    private func handOver(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?) {
        pass(context, wrapInboundOut(.head(head)))
        if let body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    private func answer(_ context: ChannelHandlerContext, route: HotRoute, head: HTTPRequestHead, body: ByteBuffer, started: ContinuousClock.Instant) {
        let peer = self.peer ?? context.channel.remoteAddress?.ipAddress
        self.peer = .some(peer)
        let client = shared.clientAddress(peer: peer, headers: head.headers)
        guard shared.inFlight.enter() else {
            respond(context, route: route, head: head, InFlightRequests.unavailable(InFlightRequests.atCapacity), started: started, client: client)
            return
        }
        let input = RouteInput(body: body, authorization: head.headers.first(name: "authorization"),
                               contentType: head.headers.first(name: "content-type"), clientAddress: client)
        if let response = route.answerImmediately(input) {
            shared.inFlight.leave()
            shared.recorder.metrics.hotPathRequest(waited: false)
            respond(context, route: route, head: head, response, started: started, client: client)
            return
        }
        shared.recorder.metrics.hotPathRequest(waited: true)
        waiting = true
        let promise = context.eventLoop.makePromise(of: PlainResponse.self)
        let (inFlight, deadlines, timeout) = (shared.inFlight, shared.deadlines, shared.requestTimeout)
        promise.completeWithTask {
            defer { inFlight.leave() }
            return await deadlines.run(until: .now + timeout) { await route.eventual(input) }
                ?? InFlightRequests.unavailable(InFlightRequests.tooLong)
        }
        promise.futureResult.assumeIsolatedUnsafeUnchecked().whenSuccess { [self] response in
            guard inPipeline else { return }
            waiting = false
            respond(context, route: route, head: head, response, started: started, client: client)
            resume(context)
        }
    }

    /// Takes the request parts held while an answer was waited for, until one waits again.
    private func resume(_ context: ChannelHandlerContext) {
        var tookAny = false
        while !waiting, let part = held.popFirst() {
            take(context, part)
            tookAny = true
        }
        // Parts given to the router are delivered at a read's completion (NIOAsyncChannel buffers until then).
        if tookAny { context.fireChannelReadComplete() }
        if !waiting && readPostponed {
            readPostponed = false
            context.read()
        }
    }

    private func respond(_ context: ChannelHandlerContext, route: HotRoute, head: HTTPRequestHead, _ response: PlainResponse,
                         started: ContinuousClock.Instant, client: String) {
        let id = head.headers.first(name: RequestIdentifier.header).flatMap { RequestIdentifier.acceptable($0.utf8) ? $0 : nil }
            ?? RequestIdentifier.next()
        write(context, response, requestID: id)
        shared.recorder.record(route.series, method: route.method.rawValue, path: route.path, status: Int(response.status.code),
                               started: started, client: client, requestID: id, logger: shared.logger)
    }

    /// Writes the answer, already encoded, below NIO's response encoder (`wire`), and tells the
    /// connection's lifetime rule that a response ended (which may close the connection).
    private func write(_ context: ChannelHandlerContext, _ response: PlainResponse, requestID: String) {
        guard let wire else { return }
        let bytes = response.http1(requestID: requestID, date: HTTPDate.now(), server: shared.serverName, allocator: context.channel.allocator)
        wire.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
        if lifetime.responseEnded() { context.close(promise: nil) }
    }
}
