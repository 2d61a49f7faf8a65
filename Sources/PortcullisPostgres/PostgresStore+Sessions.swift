public import Foundation
public import PortcullisCore
import PostgresNIO
import Logging

extension PostgresStore: SessionStore {
    public func createFamily(_ family: TokenFamily, firstToken: RefreshTokenRecord?) async throws {
        let logger = self.logger
        try await transaction { connection in
            // A family starts live, whatever the caller's value says.
            try await connection.execute("""
                INSERT INTO token_families (id, user_id, client_id, scope, resources, created_at, revoked_at, revoked_reason)
                VALUES (\(family.id), \(family.userID), \(family.clientID), \(family.scope), \(jsonList(family.resources)),
                        \(family.createdAt.timeIntervalSince1970), NULL, NULL)
                """, logger: logger)
            if let firstToken { try await Self.insert(firstToken, familyID: family.id, connection: connection, logger: logger) }
        }
    }

    /// Rotation under two row locks taken in a fixed order, family first, then the token: every
    /// rotation, grace retry and reuse revocation of one family queues on the family row, so each
    /// sees what the one before it committed. The consuming `UPDATE … WHERE used_at IS NULL` is
    /// still a compare-and-set of its own.
    public func rotate(presentedHash: String, owner: FamilyOwner, successor: RefreshTokenRecord, at: Date, graceWindow: TimeInterval) async throws -> RotationOutcome {
        defer { tokensMayHaveEnded() }
        let now = at.timeIntervalSince1970
        let logger = self.logger
        return try await transaction { connection in
            guard let familyID = try await connection.all(RotationStatements.FamilyOfToken(key: presentedHash), logger: logger).first
            else { return .unknown }
            // Lock 1: the family row.
            guard let family = try await connection.all(RotationStatements.LockFamily(key: familyID), logger: logger).first
            else { return .revoked }
            // Ownership first: another owner's token is refused before anything about it changes.
            guard family.clientID == owner.clientID else { return .wrongOwner }
            guard family.revokedAt == nil else { return .revoked }
            // Lock 2: the token row, read after the family lock so it is the latest committed version.
            guard let token = try await connection.all(RotationStatements.LockToken(key: presentedHash), logger: logger).first
            else { return .unknown }
            guard token.expiresAt > now else { return .expired }

            if let usedAt = token.usedAt {
                guard graceWindow > 0, now - usedAt <= graceWindow else {
                    try await Self.revoke(familyID: familyID, reason: "reuse", at: now, connection: connection, logger: logger)
                    return .reused(familyID: familyID)
                }
                // A retry inside the grace window: the successor the client never saw dies,
                // so a thief replaying within the window is caught when the client refreshes next.
                if let earlier = token.replacedBy {
                    try await connection.execute(
                        "UPDATE refresh_tokens SET used_at = \(now) WHERE token_hash = \(earlier) AND used_at IS NULL", logger: logger)
                }
                try await connection.execute(
                    "UPDATE refresh_tokens SET replaced_by = \(successor.tokenHash) WHERE token_hash = \(presentedHash)", logger: logger)
                try await Self.insert(successor, familyID: familyID, connection: connection, logger: logger)
                return .rotated(family, graceRetry: true)
            }

            // Compare-and-set: only the request that flips used_at from NULL wins.
            let won = try await connection.all(
                RotationStatements.ConsumeToken(at: now, successorHash: successor.tokenHash, tokenHash: presentedHash), logger: logger)
            guard !won.isEmpty else {
                try await Self.revoke(familyID: familyID, reason: "reuse", at: now, connection: connection, logger: logger)
                return .reused(familyID: familyID)
            }
            try await Self.insert(successor, familyID: familyID, connection: connection, logger: logger)
            return .rotated(family, graceRetry: false)
        }
    }

    public func family(id: String) async throws -> TokenFamily? {
        try await row("SELECT * FROM token_families WHERE id = \(id)").map(Self.family)
    }

    public func family(ofTokenHash hash: String) async throws -> TokenFamily? {
        try await row("""
            SELECT f.* FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id WHERE t.token_hash = \(hash)
            """).map(Self.family)
    }

    public func revokeFamily(id: String, reason: String, at: Date) async throws -> Bool {
        defer { tokensMayHaveEnded() }
        return try await !rows("""
            UPDATE token_families SET revoked_at = \(at.timeIntervalSince1970), revoked_reason = \(reason)
            WHERE id = \(id) AND revoked_at IS NULL RETURNING id
            """).isEmpty
    }

    public func liveFamily(ofRefreshTokenHash hash: String, at: Date) async throws -> TokenFamily? {
        try await row("""
            SELECT f.* FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id
            WHERE t.token_hash = \(hash) AND t.used_at IS NULL AND t.expires_at > \(at.timeIntervalSince1970) AND f.revoked_at IS NULL
            """).map(Self.family)
    }

    public func endSessions(ofUserID userID: String, exceptFamily exceptFamilyID: String?, reason: String, at: Date) async throws -> EndedSessions {
        defer { tokensMayHaveEnded() }
        let logger = self.logger
        return try await transaction { connection in
            let families = try await connection.rows("""
                WITH d AS (
                    UPDATE token_families SET revoked_at = \(at.timeIntervalSince1970), revoked_reason = \(reason)
                    WHERE user_id = \(userID) AND revoked_at IS NULL AND id IS DISTINCT FROM \(exceptFamilyID)::text
                    RETURNING 1)
                SELECT count(*)::bigint AS removed FROM d
                """, logger: logger).first?.value("removed", as: Int.self) ?? 0
            let sessions = try await connection.rows("""
                WITH d AS (DELETE FROM browser_sessions WHERE user_id = \(userID) RETURNING 1) SELECT count(*)::bigint AS removed FROM d
                """, logger: logger).first?.value("removed", as: Int.self) ?? 0
            return EndedSessions(families: families, browserSessions: sessions)
        }
    }

    public func revokeAccessToken(jti: String, expiresAt: Date, at: Date) async throws {
        defer { tokensMayHaveEnded() }
        try await execute("""
            INSERT INTO revoked_access_tokens (jti, expires_at, revoked_at)
            VALUES (\(jti), \(expiresAt.timeIntervalSince1970), \(at.timeIntervalSince1970))
            ON CONFLICT (jti) DO NOTHING
            """)
    }

    public func isAccessTokenRevoked(jti: String) async throws -> Bool {
        try await row("SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = \(jti)) AS revoked")?.value("revoked", as: Bool.self) ?? false
    }

    public func rolesIfAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                       rolesOfUserID: String?) async throws -> [String]? {
        try await liveness(LivenessQuestion(jti: jti, sessionID: sessionID, subject: subject, clientID: clientID, requireUser: requireUser,
                                            rolesOfUserID: rolesOfUserID))
    }

    /// A live answer the revocation cache holds (when it is on and listening), else `.mustWait`.
    public func rolesIfAccessTokenLiveImmediately(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                                  rolesOfUserID: String?) throws -> Immediate<[String]?> {
        let question = LivenessQuestion(jti: jti, sessionID: sessionID, subject: subject, clientID: clientID, requireUser: requireUser,
                                        rolesOfUserID: rolesOfUserID)
        if let cache = revocationCache, let roles = cache.answer(question) { return .answered(roles) }
        return .mustWait
    }

    /// Read on every token verification and decision: concurrent reads share one prepared statement.
    func liveness(_ question: LivenessQuestion) async throws -> [String]? {
        if let cache = revocationCache, let roles = cache.answer(question) { return roles }
        // Taken before the read: a flush during it keeps this answer out of the cache.
        let generation = revocationCache?.generation()
        let answer = try await livenessReads.answer(question) { [self] questions in
            try inQuestionOrder(try await prepared(AccessTokenLiveness(questions: questions)), count: questions.count)
        }
        if let cache = revocationCache, let generation, let roles = answer { cache.keep(question, roles: roles, readUnder: generation) }
        return answer
    }

    // MARK: Helpers

    static func insert(_ record: RefreshTokenRecord, familyID: String, connection: PostgresConnection, logger: Logger) async throws {
        _ = try await connection.all(RotationStatements.InsertToken(record: record, familyID: familyID), logger: logger)
    }

    static func revoke(familyID: String, reason: String, at: Double, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute("""
            UPDATE token_families SET revoked_at = \(at), revoked_reason = \(reason) WHERE id = \(familyID) AND revoked_at IS NULL
            """, logger: logger)
    }

    static func family(_ row: PostgresRandomAccessRow) throws -> TokenFamily {
        TokenFamily(id: try row.value("id"), userID: try row.value("user_id"), clientID: try row.value("client_id"),
                    scope: try row.value("scope"), resources: try row.stringList("resources"), createdAt: try row.date("created_at"),
                    revokedAt: try row.optionalDate("revoked_at"), revokedReason: try row.value("revoked_reason"))
    }
}

/// `rolesIfAccessTokenLive` for a batch of tokens, prepared once per connection: for each, the
/// jti is not revoked, the session (if any) is live and the subject's, the user (if required)
/// exists and is enabled, and the client (if any) still exists — the same read as SQLite's cached
/// statement — and, when it is live and roles are asked for, the user's granted roles in name
/// order. Absent values travel as a flag beside a placeholder (postgres-nio's arrays hold no NULLs).
struct AccessTokenLiveness: PostgresPreparedStatement {
    static let sql = """
        SELECT t.i, CASE WHEN NOT l.live THEN NULL
                         WHEN t.has_roles THEN ARRAY(SELECT g.role FROM role_grants g WHERE g.user_id = t.roles_of ORDER BY g.role)
                         ELSE '{}'::text[] END
        FROM unnest($1::text[], $2::boolean[], $3::text[], $4::text[], $5::boolean[], $6::boolean[], $7::text[], $8::boolean[], $9::text[])
             WITH ORDINALITY AS t(jti, has_session, session_id, subject, require_user, has_client, client_id, has_roles, roles_of, i)
        CROSS JOIN LATERAL (SELECT
            NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = t.jti)
            AND (NOT t.has_session OR EXISTS (SELECT 1 FROM token_families f WHERE f.id = t.session_id AND f.user_id = t.subject AND f.revoked_at IS NULL))
            AND (NOT t.require_user OR EXISTS (SELECT 1 FROM users u WHERE u.id = t.subject AND NOT u.disabled))
            AND (NOT t.has_client OR EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = t.client_id)) AS live) l
        """
    static let bindingDataTypes: [PostgresDataType] = [.textArray, .boolArray, .textArray, .textArray, .boolArray, .boolArray, .textArray, .boolArray, .textArray]
    typealias Row = (index: Int64, answer: [String]?)

    let questions: [LivenessQuestion]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 9)
        bindings.append(questions.map(\.jti))
        bindings.append(questions.map { $0.sessionID != nil })
        bindings.append(questions.map { $0.sessionID ?? "" })
        bindings.append(questions.map(\.subject))
        bindings.append(questions.map(\.requireUser))
        bindings.append(questions.map { $0.clientID != nil })
        bindings.append(questions.map { $0.clientID ?? "" })
        bindings.append(questions.map { $0.rolesOfUserID != nil })
        bindings.append(questions.map { $0.rolesOfUserID ?? "" })
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (index, roles) = try row.decode((Int64, [String]?).self)
        return (index, roles)
    }
}
