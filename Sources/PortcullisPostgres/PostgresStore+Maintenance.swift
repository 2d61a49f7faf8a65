import Foundation
public import PortcullisCore
import PostgresNIO
import Logging

/// Maintenance — the janitor's sweep and the decision-log trim — runs on one replica at a time.
///
/// Each takes `pg_try_advisory_xact_lock` inside its own transaction: the lock lives exactly as long
/// as the work it guards, is released by COMMIT, ROLLBACK or a lost connection, and needs no second
/// connection (a session lock held on a leased connection while the sweep ran on another would
/// deadlock a pool of one, and one left on a pooled connection by a failed unlock would keep every
/// other replica out). A replica that does not win skips that round; nothing ever waits for it.
extension PostgresStore: ExpiredRowStore, SchemaStatusStore {
    /// First key of the maintenance lock ("port"); the second is the schema's hash, so deployments
    /// (or test runs) in separate schemas of one database do not take turns with each other. The
    /// two-key lock space is separate from the one-key space of the migration lock.
    static let maintenanceLockClass: Int32 = 0x706f_7274

    /// True when this transaction now holds the maintenance lock; false at once when another holds it.
    static func tryMaintenanceLock(connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.rows(
            "SELECT pg_try_advisory_xact_lock(\(maintenanceLockClass), hashtext(current_schema())) AS won", logger: logger
        ).first?.value("won", as: Bool.self) ?? false
    }

    /// Runs `body` holding the maintenance lock in an open transaction, as a replica in the middle
    /// of a sweep does; nil, without running `body`, when another process holds it. For tests.
    package func holdingMaintenanceLock<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result? {
        let logger = self.logger
        return try await transaction { connection in
            guard try await Self.tryMaintenanceLock(connection: connection, logger: logger) else { return nil }
            return try await body()
        }
    }

    // MARK: ExpiredRowStore

    public func removeExpired(_ cutoff: ExpiryCutoff) async throws -> SweepOutcome {
        defer { tokensMayHaveEnded() }
        let before = cutoff.expiredBefore.timeIntervalSince1970
        let familiesBefore = cutoff.tokenlessFamiliesStartedBefore.timeIntervalSince1970
        let keep = max(0, cutoff.keepDecisions)
        let logger = self.logger
        return try await transaction { connection in
            guard try await Self.tryMaintenanceLock(connection: connection, logger: logger) else { return .skipped }
            func count(_ query: PostgresQuery) async throws -> Int {
                try await connection.rows(query, logger: logger).first?.value("removed", as: Int.self) ?? 0
            }
            var removed = RemovedRows()
            removed.codes = try await count("WITH d AS (DELETE FROM oauth_codes WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.browserSessions = try await count("WITH d AS (DELETE FROM browser_sessions WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.mfaChallenges = try await count("WITH d AS (DELETE FROM mfa_challenges WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.webAuthnChallenges = try await count(
                "WITH d AS (DELETE FROM webauthn_challenges WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.revokedAccessTokens = try await count("WITH d AS (DELETE FROM revoked_access_tokens WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.refreshTokens = try await count("WITH d AS (DELETE FROM refresh_tokens WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.families = try await count("""
                WITH d AS (
                    DELETE FROM token_families
                    WHERE (revoked_at IS NOT NULL AND revoked_at < \(before))
                       OR (created_at < \(familiesBefore) AND NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = token_families.id))
                    RETURNING 1)
                SELECT count(*)::bigint AS removed FROM d
                """)
            removed.addressThrottles = try await count(
                "WITH d AS (DELETE FROM address_throttles WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.decisions = try await count("""
                WITH d AS (DELETE FROM decision_log WHERE id <= (SELECT MAX(id) FROM decision_log) - \(keep) RETURNING 1)
                SELECT count(*)::bigint AS removed FROM d
                """)
            return .swept(removed)
        }
    }

    // MARK: SchemaStatusStore

    /// One read of `schema_migrations` (ids and checksums) against `PostgresMigrations.all`.
    public func schemaStatus() async throws -> SchemaStatus {
        var recorded: [String: String] = [:]
        for row in try await rows("SELECT id, checksum FROM schema_migrations") {
            recorded[try row.value("id", as: String.self)] = try row.value("checksum", as: String.self)
        }
        return PostgresMigrations.status(recorded: recorded)
    }
}
