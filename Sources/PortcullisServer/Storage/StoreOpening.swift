import Foundation
public import Logging
public import PortcullisCore
import PortcullisPostgres
import PortcullisSQLite
import PostgresNIO
public import ServiceLifecycle

/// The store the configuration names, opened: the one place that chooses a backend.
public struct OpenedStore: Sendable {
    /// The store.
    public let store: any PortcullisStore
    /// What keeps its connections (PostgreSQL's pool); `serve` runs it in its service group.
    public let service: (any Service)?
    /// Where signing keys are kept when the database is shared (PostgreSQL); nil: `Keys/`.
    public let signingKeys: (any SigningKeyStore)?
    private let stop: @Sendable () -> Void

    /// Closes the store's connections (the CLI's commands, when done).
    public func close() { stop() }

    init(store: any PortcullisStore, service: (any Service)? = nil, signingKeys: (any SigningKeyStore)? = nil,
         stop: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.service = service
        self.signingKeys = signingKeys
        self.stop = stop
    }
}

/// How `open` treats a schema that is behind.
public enum SchemaPolicy: Sendable {
    /// Apply pending migrations (under PostgreSQL's advisory lock).
    case migrate
    /// Refuse with `StartupRefusal` naming the pending migrations.
    case refuseIfBehind
}

/// Opens stores by `PORTCULLIS_DB`: a SQLite file, or a PostgreSQL database reached within a bounded wait.
public enum StoreOpening {
    /// How long `open` waits for PostgreSQL to answer before refusing to start.
    public static let connectWait: Duration = .seconds(10)

    /// The store of `configuration.database`, its schema checked (or migrated) by `schema`.
    public static func open(_ configuration: PortcullisConfiguration, schema: SchemaPolicy, logger: Logger) async throws -> OpenedStore {
        switch configuration.database {
        case .sqlite(let path):
            if case .refuseIfBehind = schema {
                let pending = try SQLiteStore.pendingMigrations(path: path)
                if !pending.isEmpty {
                    throw StartupRefusal(
                        "the SQLite schema is behind: pending \(pending.joined(separator: ", ")); run `portcullis migrate` (or set PORTCULLIS_DB_AUTO_MIGRATE=1)",
                        schemaBehind: true)
                }
            }
            return OpenedStore(store: try SQLiteStore(path: path))
        case .postgres(let location):
            // The pool's connections run on the HTTP server's event loops: a query's answer is read on
            // the thread that will write the response, not handed across a second group of threads.
            let loops = IOThreads.group(threads: configuration.resolvedEventLoopThreads(cores: System.coreCount))
            return try await openPostgres(location, poolSize: configuration.databasePoolSize, eventLoops: loops,
                                          revocationCacheSeconds: configuration.revocationCacheSeconds, schema: schema, logger: logger)
        }
    }

    static func openPostgres(
        _ location: PostgresLocation, poolSize: Int, eventLoops: any EventLoopGroup, revocationCacheSeconds: Int, schema: SchemaPolicy,
        logger: Logger
    ) async throws -> OpenedStore {
        // The pool logs every failed connect at info; ours says once what is wrong.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: clientConfiguration(location, poolSize: poolSize), eventLoopGroup: eventLoops, backgroundLogger: background)
        let running = Task { await client.run() }
        let store = PostgresStore(client: client, logger: logger, revocationCacheSeconds: revocationCacheSeconds)
        // The revocation listener lives as long as the pool (nothing to do when the cache is off).
        let following = Task { await store.followRevocations { logger.warning("\($0)") } }
        let opened = OpenedStore(store: store, service: ClientLifetime(task: running), signingKeys: store, stop: {
            following.cancel()
            running.cancel()
        })
        do {
            guard try await answers(store, within: connectWait) else {
                throw StartupRefusal("PostgreSQL at \(location.redacted) did not answer within \(connectWait)")
            }
            switch schema {
            case .migrate:
                let applied = try await PostgresMigrations.migrate(client: client, logger: logger)
                if !applied.isEmpty { logger.notice("applied migrations \(applied.joined(separator: ", "))") }
            case .refuseIfBehind:
                let pending = try await PostgresMigrations.pending(client: client, logger: logger)
                if !pending.isEmpty { throw StartupRefusal(PostgresMigrations.Problem.behind(pending: pending).description, schemaBehind: true) }
            }
            return opened
        } catch let problem as PostgresMigrations.Problem {
            opened.close()
            throw StartupRefusal(problem.description)
        } catch {
            opened.close()
            throw error
        }
    }

    /// postgres-nio's configuration for `location`: TLS by `sslmode`, `poolSize` connections at most.
    static func clientConfiguration(_ location: PostgresLocation, poolSize: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch location.sslMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// True once the store answers (`isHealthy`, itself bounded by the store's connection wait);
    /// false when `wait` passes first.
    static func answers(_ store: PostgresStore, within wait: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            if await store.isHealthy() { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }
}

/// Keeps PostgreSQL's pool running for the life of the service group, and closes it at shutdown.
struct ClientLifetime: Service {
    let task: Task<Void, Never>

    func run() async throws {
        await withGracefulShutdownHandler {
            await task.value
        } onGracefulShutdown: {
            task.cancel()
        }
    }
}
