public import Hummingbird
import NIOPosix
import Synchronization
import HummingbirdCore
import NIOCore
public import Foundation
public import Logging
public import PortcullisCore
import PortcullisCrypto
import PortcullisPolicy
import ServiceLifecycle
public import Prometheus

/// Everything the routes need, opened once per process (or per test) by `open`.
public struct PortcullisServices: Sendable {
    /// The effective configuration.
    public let configuration: PortcullisConfiguration
    /// Storage.
    public let store: any PortcullisStore
    /// Signing keys: `Keys/`, or the database's when it is shared (PostgreSQL).
    public let keys: any KeyRingSource
    /// The database's key ring, which `BackgroundTasks` keeps current; nil with `Keys/`.
    let storedKeys: StoredKeyRing?
    /// Argon2id hashing off the event loop, bounded.
    public let passwordHasher: PasswordHasher
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
    /// Key the CSRF tokens of the pages and seal TOTP secrets and stored signing keys.
    let secrets: KeyEncryptionKeys
    /// What keeps the store's connections (PostgreSQL's pool), run beside the server.
    let storeService: (any Service)?
    /// Where the metrics are collected; `/metrics` prints it.
    public let metricsRegistry: PrometheusCollectorRegistry
    /// Counters and histograms of this process.
    public let metrics: PortcullisMetrics

    /// Opens what `configuration` names — the database (SQLite or PostgreSQL, migrated when
    /// `autoMigrate`, else refused when behind), the keys directory (a signing key and the secrets
    /// key made on first start), the policies directory — and wires the services. `serve` and the
    /// tests both start here. Throws `StartupRefusal` for a configuration it will not run with (an
    /// Argon2 cost below the floor, an unreachable database, a schema behind, an invalid policy).
    public static func open(
        _ configuration: PortcullisConfiguration, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> PortcullisServices {
        do {
            try configuration.checkArgon2Floor()
            try configuration.checkWebAuthn()
        } catch let error as PortcullisError {
            throw StartupRefusal(error.description)
        }
        let opened = try await StoreOpening.open(configuration, schema: configuration.autoMigrate ? .migrate : .refuseIfBehind, logger: logger)
        let store = opened.store
        let secrets: KeyEncryptionKeys
        do {
            secrets = try configuration.keyEncryptionKeys()
        } catch let error as PortcullisError {
            throw StartupRefusal(error.description)
        }
        let keys: any KeyRingSource
        let storedKeys: StoredKeyRing?
        if let keyStore = opened.signingKeys {
            let ring = try await openStoredKeys(keyStore, secrets: secrets, configuration: configuration, logger: logger, clock: clock)
            keys = ring
            storedKeys = ring
        } else {
            let directory = KeyDirectory(path: configuration.keysDirectory)
            for line in try directory.prepare(signingAlgorithm: configuration.signingAlgorithm) { logger.notice("\(line)") }
            keys = try KeyRingProvider(directory: directory, reportReloadFailure: { logger.error("\($0)") })
            storedKeys = nil
        }
        if !FileManager.default.fileExists(atPath: configuration.policiesDirectory) {
            try FileManager.default.createDirectory(atPath: configuration.policiesDirectory, withIntermediateDirectories: true)
            logger.notice("created empty policies directory \(configuration.policiesDirectory)")
        }
        let policies: PolicyProvider
        do {
            policies = try PolicyProvider(directory: configuration.policiesDirectory)
        } catch let error as PolicyLoadError {
            throw StartupRefusal("invalid policy in \(configuration.policiesDirectory):\n" + error.issues.map(\.description).joined(separator: "\n"))
        }
        return PortcullisServices(
            configuration: configuration, store: store, storeService: opened.service, keys: keys, storedKeys: storedKeys,
            hasher: try PasswordHasher(parameters: configuration.argon2), secrets: secrets, policies: policies, clock: clock)
    }

    /// The database's key ring; on an empty key table, the first keys (one replica makes them).
    /// Refuses when the table is empty but `Keys/` holds keys: those are `portcullis keys import`'s to move.
    private static func openStoredKeys(
        _ keyStore: any SigningKeyStore, secrets: KeyEncryptionKeys, configuration: PortcullisConfiguration, logger: Logger,
        clock: @escaping @Sendable () -> Date
    ) async throws -> StoredKeyRing {
        if try await keyStore.signingKeys().isEmpty {
            let directory = KeyDirectory(path: configuration.keysDirectory)
            if try directory.hasKeys() {
                throw StartupRefusal("the database holds no signing keys, but \(configuration.keysDirectory) does: "
                                     + "run `portcullis keys import --from \(configuration.keysDirectory)` to move them in")
            }
            let administration = StoredKeyAdministration(store: keyStore, secrets: secrets, clock: clock)
            if try await administration.createInitialKeys(signingAlgorithm: configuration.signingAlgorithm) {
                logger.notice("created the first \(configuration.signingAlgorithm.rawValue) signing key in the database")
            }
        }
        do {
            return try await StoredKeyRing(store: keyStore, secrets: secrets, clock: clock)
        } catch let error as PortcullisError {
            // An internal failure's description hides its text (it is what clients see); the operator needs it.
            let reason = if case .internalFailure(let message) = error { message } else { error.description }
            throw StartupRefusal("cannot open the signing keys in the database: \(reason)")
        }
    }

    private init(
        configuration: PortcullisConfiguration, store: any PortcullisStore, storeService: (any Service)?, keys: any KeyRingSource,
        storedKeys: StoredKeyRing?, hasher: PasswordHasher, secrets: KeyEncryptionKeys, policies: PolicyProvider,
        clock: @escaping @Sendable () -> Date
    ) {
        self.configuration = configuration
        self.storeService = storeService
        self.store = store
        self.keys = keys
        self.storedKeys = storedKeys
        self.passwordHasher = hasher
        self.policies = policies
        let registry = PrometheusCollectorRegistry()
        let metrics = PortcullisMetrics(factory: PrometheusMetricsFactory(registry: registry))
        self.metricsRegistry = registry
        self.metrics = metrics
        hasher.report(to: metrics)
        metrics.policyInForce(version: policies.current.version, loadedAt: clock())
        self.auth = AuthService(
            store: store, hasher: hasher, signer: AccessTokenSigner(keys: keys, issuer: configuration.issuer, cacheSize: configuration.tokenCacheSize),
            configuration: configuration, secrets: secrets, policies: policies, metrics: metrics, clock: clock)
        self.decisionLog = configuration.decisionLogSize > 0 ? DecisionLog(store: store, capacity: configuration.decisionLogSize) : nil
        self.authorization = AuthorizationService(auth: auth, store: store, policies: policies, decisionLog: decisionLog)
        self.oauth = OAuthProvider(auth: auth, store: store)
        self.secrets = secrets
    }
}

/// A configuration `serve` refuses to run with, said in one message.
public struct StartupRefusal: Error, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    /// True when the refusal is only that the schema is behind (`portcullis migrate` mends it).
    public let schemaBehind: Bool

    init(_ description: String, schemaBehind: Bool = false) {
        self.description = description
        self.schemaBehind = schemaBehind
    }
}

/// The router: JSON routes, the bearer and account groups, and the browser pages, behind the
/// global middleware. Tests drive it with `app.test(.router)`.
public func buildRouter(_ services: PortcullisServices) -> Router<PortcullisRequestContext> {
    buildRouter(services, hotPath: HotPath(services: services, logger: Logger(label: "portcullis")))
}

/// The router, sharing `hotPath`'s routes and per-request components with the hot path in front of it.
func buildRouter(_ services: PortcullisServices, hotPath: HotPath) -> Router<PortcullisRequestContext> {
    let router = Router(context: PortcullisRequestContext.self)
    let routeTable = RouteTable()
    // First: the log line, the throttles and the audit log all see the resolved client.
    router.add(middleware: ClientAddressMiddleware(resolver: hotPath.components.resolver))
    router.add(middleware: RequestLogMiddleware(recorder: hotPath.components.recorder))
    router.add(middleware: LoadSheddingMiddleware(inFlight: hotPath.components.inFlight, deadlines: hotPath.components.deadlines,
                                                 timeout: hotPath.components.requestTimeout))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: JSONErrorMiddleware(routes: routeTable))

    // The hot routes, as the hot path answers them (it hands here what it cannot answer at once).
    for route in hotPath.routes.all {
        router.on(RouterPath(route.path), method: route.method) { request, context in
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            return await route.answer(RouteInput(request, body: body, clientAddress: context.clientAddress)).response
        }
    }
    let issuer = services.configuration.issuer
    router.addRoutes(AuthController(auth: services.auth).endpoints)
    router.addRoutes(PasskeyController(auth: services.auth).signInEndpoints)
    router.addRoutes(OAuthController(oauth: services.oauth).endpoints)
    router.addRoutes(WellKnownController(issuer: issuer).endpoints)
    router.addRoutes(OperationsController(metricsRegistry: services.metricsRegistry).endpoints)

    // Routes that take a bearer token: the header is parsed once, by the middleware.
    let bearer = router.group().add(middleware: BearerTokenMiddleware())
    bearer.addRoutes(UserinfoController(oauth: services.oauth, issuer: issuer).endpoints)
    // The account API: only a verified first-party user token gets in (the narrowed context).
    let account = bearer.group("/v1/me").add(middleware: AccountAuthenticator(auth: services.auth))
        .group(context: AuthenticatedRequestContext.self)
    account.addRoutes(MeController(auth: services.auth).endpoints)
    account.addRoutes(MFAController(auth: services.auth).endpoints, atPath: "/mfa/totp")
    account.addRoutes(PasskeyController(auth: services.auth).accountEndpoints, atPath: "/webauthn")

    // Browser pages: parameters, CSRF cookie and browser session, each read once.
    let cookies = BrowserCookies(issuer: issuer, secretsKey: services.secrets.sealing)
    let flow = PageFlow(oauth: services.oauth, issuer: issuer, cookies: cookies)
    let pages = router.group(context: PageRequestContext.self)
        .add(middleware: PageFormMiddleware())
        .add(middleware: CSRFCookieMiddleware(cookies: cookies))
        .add(middleware: BrowserSessionMiddleware(sessions: services.oauth.browserSessions, cookies: cookies))
    let authorizationPages = AuthorizationPagesController(flow: flow)
    // The authorization request arrives cross-site by design (RFC 6749 section 3.1): no CSRF check.
    pages.addRoutes(authorizationPages.authorizeEndpoints)
    // Every form: the CSRF token is checked once, for every unsafe method.
    let forms = pages.group().add(middleware: CSRFMiddleware())
    forms.addRoutes(authorizationPages.consentEndpoints)
    forms.addRoutes(SignInController(flow: flow, auth: services.auth).endpoints)
    forms.addRoutes(LogoutController(flow: flow).endpoints)
    forms.addRoutes(AccountController(flow: flow, auth: services.auth).endpoints)
    forms.addRoutes(PasskeyPagesController(flow: flow, auth: services.auth).endpoints)

    routeTable.load(router.routes)
    return router
}

/// The HTTP application on the configured host and port, with its background tasks.
public func buildApplication(_ services: PortcullisServices, logger: Logger) -> some ApplicationProtocol {
    buildApplication(services, logger: logger, hotPath: true)
}

/// The application, with the hot path in front of the router or (`hotPath` false: the tests that
/// compare both paths) without it.
package func buildApplication(_ services: PortcullisServices, logger: Logger, hotPath hotPathOn: Bool) -> some ApplicationProtocol {
    let configuration = services.configuration
    // Small header limits (a token is a few KiB) and an idle timeout against slow or silent clients.
    let http = HTTP1Channel.Configuration(
        idleTimeout: .seconds(Int64(configuration.idleTimeout)),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
    let hotPath = HotPath(services: services, logger: logger)
    return Application(
        router: buildRouter(services, hotPath: hotPath),
        server: hotPathOn ? .portcullis(configuration: http, routes: hotPath.routes, components: hotPath.components) : .http1(configuration: http),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "Portcullis"),
        // The store's pool first: the service group shuts services down last-first, so it closes after the server.
        services: [services.storeService, BackgroundTasks(services: services, logger: logger)].compactMap { $0 },
        eventLoopGroupProvider: .shared(IOThreads.group(threads: configuration.resolvedEventLoopThreads(cores: System.coreCount))),
        logger: logger)
}

/// Opens everything `configuration` names and builds the application: what `serve` runs.
public func buildApplication(_ configuration: PortcullisConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let services = try await PortcullisServices.open(configuration, logger: logger)
    logger.notice("policy \(absolute(configuration.policiesDirectory)) version \(services.policies.current.version): \(services.policies.current.roleNames.count) roles")
    logger.notice("database \(database(configuration.database)); keys \(absolute(configuration.keysDirectory)); signing key \(services.keys.current().signingKID)")
    logger.notice("issuer \(configuration.issuer); listening on http://\(configuration.host):\(configuration.port)")
    return buildApplication(services, logger: logger)
}

private func database(_ location: DatabaseLocation) -> String {
    if case .sqlite(let path) = location { return absolute(path) }
    return location.description
}

private func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
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
