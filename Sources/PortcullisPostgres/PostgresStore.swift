import Foundation
import Synchronization
public import Logging
public import PortcullisCore
public import PostgresNIO

/// Every store protocol on PostgreSQL (postgres-nio's `PostgresClient`, which the application runs
/// as a service). Correct under READ COMMITTED: each compare-and-set is one conditional statement or
/// runs under row locks taken in a fixed order, and a serialization failure or deadlock is retried.
///
/// Times are `double precision` seconds since 1970, as in SQLite: the audit hashes cover them.
public final class PostgresStore: Sendable {
    /// The pool every query leases from.
    public let client: PostgresClient
    let logger: Logger
    /// Concurrent liveness reads (every token check), coalesced: see `ReadBatcher`. One batch runs
    /// at a time (measured: two at once made smaller batches and cost more CPU per read).
    let livenessReads = ReadBatcher<LivenessQuestion, [String]?>(maxInFlight: 1)
    /// Concurrent role reads (every decision), coalesced.
    let roleReads = ReadBatcher<String, [String]>(maxInFlight: 1)
    /// Concurrent client reads (every client authentication), coalesced.
    let clientReads = ReadBatcher<String, OAuthClient?>(maxInFlight: 1)
    /// Concurrent address-lock reads (every login, refresh and client authentication), coalesced.
    let addressLockReads = ReadBatcher<String, Double?>(maxInFlight: 1)

    /// Live answers remembered between notifications (`PORTCULLIS_REVOCATION_CACHE_SECONDS`); nil: off.
    let revocationCache: RevocationCache?

    /// A store over `client`; the caller runs `client.run()` (in the service group) and migrates
    /// first. With `revocationCacheSeconds` > 0, the caller also runs `followRevocations()`.
    public init(client: PostgresClient, logger: Logger = Logger(label: "portcullis.postgres"), revocationCacheSeconds: Int = 0) {
        self.client = client
        self.logger = logger
        self.revocationCache = revocationCacheSeconds > 0 ? RevocationCache(ttl: .seconds(revocationCacheSeconds)) : nil
    }

    /// Called by every write that can end a token, once it is done: this replica's cache forgets
    /// at once (its own notification arrives later, like everyone else's), so this process sees
    /// its own revocations at the next check.
    func tokensMayHaveEnded() {
        revocationCache?.flush()
    }

    /// The channel the revocation triggers notify on (migration `v4-revocation-notify`).
    static let revocationChannel = "portcullis_revocations"

    /// Keeps the revocation cache honest until cancelled: listens for revocations, flushing the
    /// cache at each; while not listening, the cache is bypassed, and listening is retried every
    /// second. Returns at once when the cache is off. `report` hears of each lost listener.
    public func followRevocations(report: @escaping @Sendable (String) -> Void) async {
        guard let cache = revocationCache else { return }
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    var schema = ""
                    for try await name in try await connection.query("SELECT current_schema()::text", logger: logger).decode(String.self) {
                        schema = name
                    }
                    let notifications = try await connection.listen(Self.revocationChannel)
                    cache.setListening(true)
                    for try await notification in notifications where notification.payload == schema { cache.flush() }
                }
            } catch {
                if !Task.isCancelled { report("lost the revocation listener (\(error)); the revocation cache is bypassed until it is back") }
            }
            cache.setListening(false)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// True when the database answers a trivial query.
    public func isHealthy() async -> Bool {
        (try? await rows("SELECT 1")) != nil
    }

    // MARK: - Query helpers

    /// How long a request waits for a pooled connection before it is answered 503: a database that
    /// went away costs each request this much, not the whole request timeout.
    static let connectionWait: Duration = .seconds(3)

    /// Runs `body` on a pooled connection, giving up with `unavailable` when none is leased within
    /// `connectionWait` (the lease is cancelled; a query already running is never cut short).
    func leased<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let started = LeaseFlag()
        let client = self.client
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        started.set()
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: Self.connectionWait)
                    if !started.isSet { throw PortcullisError.unavailable("no PostgreSQL connection within \(Self.connectionWait)") }
                    return nil
                }
                while let outcome = try await group.next() {
                    if let value = outcome {
                        group.cancelAll()
                        return value
                    }
                }
                throw PortcullisError.internalFailure("lease ended without a result")
            }
        } catch {
            throw Self.translated(error)
        }
    }

    /// Every row of `query`, random-access by column name.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        let logger = self.logger
        return try await leased { connection in try await connection.rows(query, logger: logger) }
    }

    /// The first row of `query`, if any.
    func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
        try await rows(query).first
    }

    /// Runs a statement, discarding any rows.
    func execute(_ query: PostgresQuery) async throws {
        _ = try await rows(query)
    }

    /// The rows of a prepared statement (the hot paths).
    func prepared<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] where Statement.Row: Sendable {
        let logger = self.logger
        return try await leased { connection in
            var rows: [Statement.Row] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// Runs `body` in one transaction (READ COMMITTED), retried up to five times when PostgreSQL
    /// reports a serialization failure or a deadlock (SQLSTATE 40001, 40P01).
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        var attempt = 0
        while true {
            do {
                let logger = self.logger
                return try await leased { connection in
                    try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
                }
            } catch {
                let underlying = Self.underlying(error)
                attempt += 1
                guard attempt < 5, let state = (underlying as? PSQLError)?.serverInfo?[.sqlState], ["40001", "40P01"].contains(state) else {
                    throw Self.translated(underlying)
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(10 << attempt))))
            }
        }
    }

    /// The error inside a transaction wrapper: what the closure, BEGIN or COMMIT threw.
    static func underlying(_ error: any Error) -> any Error {
        guard let wrapped = error as? PostgresTransactionError else { return error }
        return wrapped.closureError ?? wrapped.commitError ?? wrapped.beginError ?? error
    }

    /// A lost or refused connection becomes `PortcullisError.unavailable` (503, and the request
    /// may be retried); anything else passes through.
    static func translated(_ error: any Error) -> any Error {
        let error = underlying(error)
        // The pool's own errors (its circuit breaker tripped after failed connects, it shut down).
        if String(reflecting: type(of: error)).hasSuffix(".ConnectionPoolError") {
            return PortcullisError.unavailable("PostgreSQL pool: \(error)")
        }
        guard let psql = error as? PSQLError else { return error }
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
             .sslUnsupported, .failedToAddSSLHandler:
            return PortcullisError.unavailable("PostgreSQL: \(psql.code)")
        case .server:
            // Class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now), 53300 (too many connections).
            let state = psql.serverInfo?[.sqlState] ?? ""
            if state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state) {
                return PortcullisError.unavailable("PostgreSQL: SQLSTATE \(state)")
            }
            return error
        default:
            return error
        }
    }

    /// True when `error` is a unique-constraint violation (SQLSTATE 23505).
    static func isUniqueViolation(_ error: any Error) -> Bool {
        (underlying(error) as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }
}

/// Every store protocol: the value the server is handed when `PORTCULLIS_DB` is a PostgreSQL URL.
extension PostgresStore: PortcullisStore {}

extension PostgresConnection {
    /// Every row of `query` on this connection (inside a transaction).
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await self.query(query, logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// Runs a statement on this connection, discarding any rows.
    func execute(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}

extension PostgresRandomAccessRow {
    /// The column `name` decoded as `T` (nil for SQL NULL when `T` is optional).
    func value<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try self[name].decode(T.self)
    }

    /// A `double precision` seconds column as a date.
    func date(_ name: String) throws -> Date {
        Date(timeIntervalSince1970: try self[name].decode(Double.self))
    }

    /// A nullable `double precision` seconds column as a date.
    func optionalDate(_ name: String) throws -> Date? {
        try self[name].decode(Double?.self).map(Date.init(timeIntervalSince1970:))
    }

    /// A `text` column holding a JSON array of strings.
    func stringList(_ name: String) throws -> [String] {
        let text = try self[name].decode(String.self)
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}

/// A string list as the JSON text both backends store.
func jsonList(_ values: [String]) -> String {
    (try? String(decoding: JSONEncoder().encode(values), as: UTF8.self)) ?? "[]"
}

/// Set once a lease has begun.
final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
