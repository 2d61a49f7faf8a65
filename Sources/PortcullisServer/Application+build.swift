public import Hummingbird
import NIOPosix
import Synchronization
import HummingbirdCore
import NIOCore
public import Foundation
public import Logging
public import PortcullisCore
import PortcullisPolicy
public import Prometheus

/// Everything the routes need, built once per process (or per test).
public struct PortcullisServices: Sendable {
    /// The effective configuration.
    public let configuration: PortcullisConfiguration
    /// Storage.
    public let store: any PortcullisStore
    /// Signing keys.
    public let keys: KeyRingProvider
    /// Login, tokens, sessions.
    public let auth: AuthService
    /// The policy in force, reloaded when its files change.
    public let policies: PolicyProvider
    /// Bounded log of decisions for `policy diff` (nil when turned off).
    public let decisionLog: DecisionLog?
    /// Permission checks.
    public let authorization: AuthorizationService
    /// The OAuth 2.0 / OpenID Connect provider.
    public let oauth: OAuthProvider
    /// Keys the CSRF tokens of the pages.
    let secretsKey: [UInt8]
    /// Where the metrics are collected; `/metrics` prints it.
    public let metricsRegistry: PrometheusCollectorRegistry
    /// Counters and histograms of this process.
    public let metrics: PortcullisMetrics

    /// Wires the services; `clock` is replaceable for tests.
    public init(
        configuration: PortcullisConfiguration, store: any PortcullisStore, keys: KeyRingProvider, hasher: PasswordHasher,
        secretsKey: [UInt8], policies: PolicyProvider, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.store = store
        self.keys = keys
        self.policies = policies
        let registry = PrometheusCollectorRegistry()
        let metrics = PortcullisMetrics(factory: PrometheusMetricsFactory(registry: registry))
        self.metricsRegistry = registry
        self.metrics = metrics
        hasher.report(to: metrics)
        self.auth = AuthService(
            store: store, hasher: hasher, signer: AccessTokenSigner(keys: keys, issuer: configuration.issuer, cacheSize: configuration.tokenCacheSize),
            configuration: configuration, secretsKey: secretsKey, policies: policies, metrics: metrics, clock: clock)
        self.decisionLog = configuration.decisionLogSize > 0 ? DecisionLog(store: store, capacity: configuration.decisionLogSize) : nil
        self.authorization = AuthorizationService(auth: auth, store: store, policies: policies, decisionLog: decisionLog)
        self.oauth = OAuthProvider(auth: auth, store: store)
        self.secretsKey = secretsKey
    }
}

/// The router with every route and middleware; tests drive it with `.router`.
public func buildRouter(_ services: PortcullisServices) -> Router<PortcullisRequestContext> {
    let router = Router(context: PortcullisRequestContext.self)
    let paths: Set<String> = [
        "/v1/login", "/v1/login/mfa", "/v1/token/refresh", "/v1/logout", "/v1/token/verify", "/v1/me", "/v1/me/password",
        "/v1/me/mfa/totp", "/v1/me/mfa/totp/confirm", "/v1/authorize",
        "/healthz", "/readyz", "/.well-known/jwks.json",
        "/oauth2/authorize", "/oauth2/login", "/oauth2/mfa", "/oauth2/consent", "/oauth2/logout", "/account/totp",
        "/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/oauth2/userinfo",
        "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/metrics", "/openapi.yaml",
    ]
    router.add(middleware: RequestLogMiddleware(metrics: services.metrics))
    router.add(middleware: LoadSheddingMiddleware(
        limit: services.configuration.maxConcurrentRequests, timeout: .seconds(services.configuration.requestTimeout)))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: JSONErrorMiddleware(knownPaths: paths))
    AuthController(auth: services.auth).addRoutes(to: router)
    MeController(auth: services.auth).addRoutes(to: router)
    MFAController(auth: services.auth).addRoutes(to: router)
    AuthorizeController(authorization: services.authorization).addRoutes(to: router)
    OAuthController(oauth: services.oauth, issuer: services.configuration.issuer).addRoutes(to: router)
    WebController(oauth: services.oauth, auth: services.auth, issuer: services.configuration.issuer, secretsKey: services.secretsKey)
        .addRoutes(to: router)
    HealthController(store: services.store, keys: services.keys, policies: services.policies).addRoutes(to: router)
    router.get("/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml", .cacheControl: "public, max-age=300"],
                 body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
    }
    let registry = services.metricsRegistry
    router.get("/metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
    return router
}

/// The HTTP application listening on the configured host and port, with its background tasks.
public func buildApplication(_ services: PortcullisServices, logger: Logger) -> some ApplicationProtocol {
    let configuration = services.configuration
    // Small header limits (a token is a few KiB) and an idle timeout against slow or silent clients.
    let http = HTTP1Channel.Configuration(
        idleTimeout: .seconds(Int64(configuration.idleTimeout)),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
    return Application(
        router: buildRouter(services),
        server: .http1(configuration: http),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "Portcullis"),
        services: [BackgroundTasks(services: services, logger: logger)],
        eventLoopGroupProvider: .shared(IOThreads.group(threads: configuration.resolvedEventLoopThreads(cores: System.coreCount))),
        logger: logger)
}

/// The process's network I/O threads: NIO's singleton when one per core is wanted, else one
/// group of the requested size, made once and kept for the life of the process.
enum IOThreads {
    private static let sized = Mutex<(threads: Int, group: MultiThreadedEventLoopGroup)?>(nil)

    static func group(threads: Int) -> MultiThreadedEventLoopGroup {
        if threads == System.coreCount { return .singleton }
        return sized.withLock { state in
            if let state, state.threads == threads { return state.group }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            state = (threads, group)
            return group
        }
    }
}
