public import Hummingbird
public import Foundation
public import Logging
public import PortcullisCore

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

    /// Wires the services; `clock` is replaceable for tests.
    public init(configuration: PortcullisConfiguration, store: any PortcullisStore, keys: KeyRingProvider, hasher: PasswordHasher, secretsKey: [UInt8], clock: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.store = store
        self.keys = keys
        self.auth = AuthService(
            store: store, hasher: hasher, signer: AccessTokenSigner(keys: keys, issuer: configuration.issuer),
            configuration: configuration, secretsKey: secretsKey, clock: clock)
    }
}

/// The router with every route and middleware; tests drive it with `.router`.
public func buildRouter(_ services: PortcullisServices) -> Router<PortcullisRequestContext> {
    let router = Router(context: PortcullisRequestContext.self)
    let paths: Set<String> = [
        "/v1/login", "/v1/login/mfa", "/v1/token/refresh", "/v1/logout", "/v1/token/verify", "/v1/me", "/v1/me/password",
        "/v1/me/mfa/totp", "/v1/me/mfa/totp/confirm",
        "/healthz", "/readyz", "/.well-known/jwks.json",
    ]
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: JSONErrorMiddleware(knownPaths: paths))
    AuthController(auth: services.auth).addRoutes(to: router)
    MeController(auth: services.auth).addRoutes(to: router)
    MFAController(auth: services.auth).addRoutes(to: router)
    HealthController(store: services.store, keys: services.keys).addRoutes(to: router)
    return router
}

/// The HTTP application listening on the configured host and port.
public func buildApplication(_ services: PortcullisServices, logger: Logger) -> some ApplicationProtocol {
    Application(
        router: buildRouter(services),
        configuration: .init(
            address: .hostname(services.configuration.host, port: services.configuration.port),
            serverName: "Portcullis"),
        logger: logger)
}
