public import Foundation
public import PortcullisCore
import PostgresNIO
import Logging

extension PostgresStore: AuditStore, AccountLockoutStore, DecisionLogStore, ExpiredRowStore {
    // MARK: AuditStore

    public func appendAudit(_ event: AuditEvent) async throws {
        let logger = self.logger
        try await transaction { connection in try await Self.appendAudit(event, connection: connection, logger: logger) }
    }

    /// Appends one event inside the caller's transaction. The one-row `audit_head` is the lock that
    /// orders appends from every connection and replica: the sequence number is gap-free and the
    /// `previous_hash` uniqueness guard refuses a fork even if that lock were ever bypassed.
    static func appendAudit(_ event: AuditEvent, connection: PostgresConnection, logger: Logger) async throws {
        guard let head = try await connection.rows("SELECT seq, chain_hash FROM audit_head WHERE id = 1 FOR UPDATE", logger: logger).first else {
            throw PortcullisError.internalFailure("audit_head is missing")
        }
        let seq = try head.value("seq", as: Int64.self) + 1
        let previous = try head.value("chain_hash", as: String.self)
        let content = AuditChain.contentHash(event)
        let chain = AuditChain.link(previous: previous, content: content)
        try await connection.execute("""
            INSERT INTO audit_events (id, at, action, actor, subject, remote_address, detail, content_hash, previous_hash, chain_hash)
            VALUES (\(seq), \(event.at.timeIntervalSince1970), \(event.action), \(event.actor), \(event.subject), \(event.remoteAddress),
                    \(event.detail), \(content), \(previous), \(chain))
            """, logger: logger)
        try await connection.execute("UPDATE audit_head SET seq = \(seq), chain_hash = \(chain) WHERE id = 1", logger: logger)
    }

    public func recentAudit(limit: Int) async throws -> [AuditEvent] {
        try await rows("SELECT * FROM audit_events ORDER BY id DESC LIMIT \(limit)").map(Self.auditEvent)
    }

    public func auditEntries() async throws -> [AuditChain.Entry] {
        try await rows("SELECT * FROM audit_events ORDER BY id").map { row in
            AuditChain.Entry(id: try row.value("id"), event: try Self.auditEvent(row), contentHash: try row.value("content_hash"),
                             chainHash: try row.value("chain_hash"), pseudonymised: try row.value("pseudonymised"))
        }
    }

    static func auditEvent(_ row: PostgresRandomAccessRow) throws -> AuditEvent {
        AuditEvent(id: try row.value("id"), at: try row.date("at"), action: try row.value("action"), actor: try row.value("actor"),
                   subject: try row.value("subject"), remoteAddress: try row.value("remote_address"), detail: try row.value("detail"))
    }

    // MARK: AccountLockoutStore

    public func lockoutState(key: String) async throws -> AccountLockoutState {
        guard let row = try await row("SELECT failures, locked_until FROM account_lockouts WHERE key = \(key)") else {
            return AccountLockoutState(failures: 0, lockedUntil: nil)
        }
        return AccountLockoutState(failures: try row.value("failures", as: Int.self), lockedUntil: try row.optionalDate("locked_until"))
    }

    public func reserveAttempt(key: String, at: Date, resetAfter: TimeInterval, lockout: @Sendable (Int) -> TimeInterval?) async throws -> AttemptReservation {
        let now = at.timeIntervalSince1970
        // A locked account is refused on a read: no write, no lock.
        if let until = try await row("SELECT locked_until FROM account_lockouts WHERE key = \(key)")?.optionalDate("locked_until"),
           until.timeIntervalSince1970 > now {
            return .locked(until: until)
        }
        let logger = self.logger
        // The transaction finishes before this method returns: `lockout` does not really escape.
        return try await withoutActuallyEscaping(lockout) { lockout in try await transaction { connection in
            // The upsert creates or row-locks the counter in one statement: concurrent attempts
            // queue here, and each reads the count the previous one committed (READ COMMITTED).
            guard let row = try await connection.rows("""
                INSERT INTO account_lockouts (key, failures) VALUES (\(key), 0)
                ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
                RETURNING failures, locked_until, last_attempt_at
                """, logger: logger).first else { throw PortcullisError.internalFailure("lockout upsert returned nothing") }
            if let until = try row.optionalDate("locked_until"), until.timeIntervalSince1970 > now { return .locked(until: until) }
            let last = try row.value("last_attempt_at", as: Double?.self)
            let stale = last.map { now - $0 > resetAfter } ?? false
            let failures = (stale ? 0 : try row.value("failures", as: Int.self)) + 1
            let until = lockout(failures).map { at.addingTimeInterval($0) }
            try await connection.execute("""
                UPDATE account_lockouts SET failures = \(failures), locked_until = \(until?.timeIntervalSince1970), last_attempt_at = \(now)
                WHERE key = \(key)
                """, logger: logger)
            return .reserved(AccountLockoutState(failures: failures, lockedUntil: until))
        } }
    }

    public func releaseAttempt(key: String, threshold: Int) async throws {
        let logger = self.logger
        try await transaction { connection in
            // One conditional statement per step, under the row lock the first one takes.
            try await connection.execute("""
                UPDATE account_lockouts SET failures = GREATEST(failures - 1, 0),
                       locked_until = CASE WHEN failures - 1 < \(threshold) THEN NULL ELSE locked_until END
                WHERE key = \(key)
                """, logger: logger)
            try await connection.execute("DELETE FROM account_lockouts WHERE key = \(key) AND failures = 0 AND locked_until IS NULL", logger: logger)
        }
    }

    public func clearLockout(key: String) async throws -> Bool {
        try await !rows("DELETE FROM account_lockouts WHERE key = \(key) RETURNING key").isEmpty
    }

    // MARK: DecisionLogStore

    public func appendDecisions(_ records: [DecisionRecord], capacity: Int) async throws {
        guard !records.isEmpty else { return }
        let logger = self.logger
        try await transaction { connection in
            // One statement for the whole batch (a row per statement cost a round trip per decision).
            _ = try await connection.all(AppendDecisions(records: records), logger: logger)
            try await connection.execute(
                "DELETE FROM decision_log WHERE id <= (SELECT MAX(id) FROM decision_log) - \(capacity)", logger: logger)
        }
    }

    public func recentDecisions(limit: Int) async throws -> [DecisionRecord] {
        try await rows("SELECT * FROM decision_log ORDER BY id DESC LIMIT \(limit)").map { row in
            DecisionRecord(at: try row.date("at"), subject: try row.value("subject"), grantedRoles: try row.stringList("granted_roles"),
                           action: try row.value("action"), resource: try row.value("resource"), allowed: try row.value("allowed"),
                           rule: try row.value("rule"), policyVersion: try row.value("policy_version"))
        }
    }

    // MARK: ExpiredRowStore

    public func removeExpired(_ cutoff: ExpiryCutoff) async throws -> RemovedRows {
        let before = cutoff.expiredBefore.timeIntervalSince1970
        let familiesBefore = cutoff.tokenlessFamiliesStartedBefore.timeIntervalSince1970
        let keep = max(0, cutoff.keepDecisions)
        let logger = self.logger
        return try await transaction { connection in
            func count(_ query: PostgresQuery) async throws -> Int {
                try await connection.rows(query, logger: logger).first?.value("removed", as: Int.self) ?? 0
            }
            var removed = RemovedRows()
            removed.codes = try await count("WITH d AS (DELETE FROM oauth_codes WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.browserSessions = try await count("WITH d AS (DELETE FROM browser_sessions WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
            removed.mfaChallenges = try await count("WITH d AS (DELETE FROM mfa_challenges WHERE expires_at < \(before) RETURNING 1) SELECT count(*)::bigint AS removed FROM d")
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
            return removed
        }
    }
}

/// A batch of decisions in one `INSERT … SELECT FROM unnest(…)`, in the order given (the identity
/// ids follow it). A rule that is absent travels as a flag beside a placeholder.
struct AppendDecisions: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO decision_log (at, subject, granted_roles, action, resource, allowed, rule, policy_version)
        SELECT d.at, d.subject, d.granted_roles, d.action, d.resource, d.allowed, CASE WHEN d.has_rule THEN d.rule END, d.policy_version
        FROM unnest($1::double precision[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::boolean[], $8::text[], $9::text[])
             WITH ORDINALITY AS d(at, subject, granted_roles, action, resource, allowed, has_rule, rule, policy_version, i)
        ORDER BY d.i
        """
    static let bindingDataTypes: [PostgresDataType] = [.float8Array, .textArray, .textArray, .textArray, .textArray, .boolArray, .boolArray, .textArray, .textArray]
    typealias Row = Void
    let records: [DecisionRecord]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 9)
        bindings.append(records.map(\.at.timeIntervalSince1970))
        bindings.append(records.map(\.subject))
        bindings.append(records.map { jsonList($0.grantedRoles) })
        bindings.append(records.map(\.action))
        bindings.append(records.map(\.resource))
        bindings.append(records.map(\.allowed))
        bindings.append(records.map { $0.rule != nil })
        bindings.append(records.map { $0.rule ?? "" })
        bindings.append(records.map(\.policyVersion))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
