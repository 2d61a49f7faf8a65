import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with the hot path in front: NIO's decoder and encoder,
/// then `ConnectionLifetimeHandler` (idle timeout and graceful close for both paths), then
/// `HotRouteHandler` (which writes its answers, already encoded, below the encoder), then
/// Hummingbird's conversion to HTTP types and its async router. Built from public Hummingbird
/// API (`HTTPServerBuilder`, `HTTPChannelHandler`).
struct PortcullisHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let configuration: HTTP1Channel.Configuration
    let routes: HotRoutes
    let components: HotPathComponents

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            limits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            limits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            let lifetime = ConnectionLifetimeHandler(idleTimeout: configuration.idleTimeout)
            try pipeline.addHandler(lifetime)
            let wire = try pipeline.context(handlerType: HTTPResponseEncoder.self)
            try pipeline.addHandler(HotRouteHandler(routes: routes, shared: components, wire: wire, lifetime: lifetime))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the hot routes answered on the event loop (see `PortcullisHTTP1Channel`).
    static func portcullis(configuration: HTTP1Channel.Configuration, routes: HotRoutes, components: HotPathComponents) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            PortcullisHTTP1Channel(responder: responder, configuration: configuration, routes: routes, components: components)
        }
    }
}

/// Closes a connection that stays idle past the timeout, and on a graceful shutdown closes each
/// connection once its current response is written: Hummingbird's `HTTPConnectionStateHandler`
/// rule, at the HTTP/1 level so that the hot path's requests count too.
final class ConnectionLifetimeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let idleTimeout: TimeAmount?
    /// Requests read (their head) whose response has not ended.
    private var inProgress = 0
    private var lastActive = NIODeadline.now()
    /// A request's head came and its end has not.
    private var reading = false
    private var closeWhenIdle = false
    private var timer: Scheduled<Void>?

    init(idleTimeout: TimeAmount?) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { schedule(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        schedule(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActive = .now()
        switch unwrapInboundIn(data) {
        case .head:
            inProgress += 1
            reading = true
        case .body: break
        case .end: reading = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        if responseEnded() {
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        } else {
            context.write(data, promise: promise)
        }
    }

    /// Counts a response that ended, the router's (its `.end` passing here) or the hot path's
    /// (written below this handler, already encoded); true when the connection should now close,
    /// once that response is flushed: a graceful shutdown waited for it.
    func responseEnded() -> Bool {
        inProgress -= 1
        lastActive = .now()
        return inProgress == 0 && closeWhenIdle
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if inProgress > 0 {
            closeWhenIdle = true
        } else {
            context.close(promise: nil)
        }
    }

    private func schedule(_ context: ChannelHandlerContext) {
        guard let idleTimeout, timer == nil else { return }
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: lastActive + idleTimeout) { [self] in
            timer = nil
            let now = NIODeadline.now()
            if inProgress > 0 && !reading {
                // A request being answered is not idle: look again a timeout from now.
                lastActive = max(lastActive, now)
                schedule(context)
            } else if now >= lastActive + idleTimeout {
                context.close(promise: nil)  // idle, or a client too slow to send its request
            } else {
                schedule(context)
            }
        }
    }
}
