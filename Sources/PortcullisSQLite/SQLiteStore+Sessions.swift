public import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore {
    public func createFamily(_ family: TokenFamily, firstToken: RefreshTokenRecord?) async throws {
        try await pool.write { db in
            var row = TokenFamilyRecord(family)
            // A family starts live, whatever the caller's value says.
            row.revokedAt = nil
            row.revokedReason = nil
            try row.insert(db)
            if let firstToken { try Self.insert(firstToken, familyID: family.id, db: db) }
        }
    }

    public func rotate(presentedHash: String, owner: FamilyOwner, successor: RefreshTokenRecord, at: Date, graceWindow: TimeInterval) async throws -> RotationOutcome {
        let now = at.timeIntervalSince1970
        return try await pool.write { db in
            guard let token = try Row.fetchOne(
                db, sql: "SELECT family_id, expires_at, used_at, replaced_by FROM refresh_tokens WHERE token_hash = ?",
                arguments: [presentedHash])
            else { return .unknown }
            let familyID: String = token["family_id"]
            guard let family = try Self.family(id: familyID, db: db) else { return .revoked }
            // Ownership first: another owner's token is refused before anything about it changes.
            guard family.clientID == owner.clientID else { return .wrongOwner }
            guard family.revokedAt == nil else { return .revoked }
            let expiresAt: Double = token["expires_at"]
            guard expiresAt > now else { return .expired }

            if let usedAt: Double = token["used_at"] {
                guard graceWindow > 0, now - usedAt <= graceWindow else {
                    try Self.revoke(familyID: familyID, reason: "reuse", at: now, db: db)
                    return .reused(familyID: familyID)
                }
                // A retry inside the grace window: the successor the client never saw dies,
                // so a thief replaying within the window is caught when the client refreshes next.
                if let earlier: String = token["replaced_by"] {
                    try db.execute(sql: "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
                                   arguments: [now, earlier])
                }
                try db.execute(sql: "UPDATE refresh_tokens SET replaced_by = ? WHERE token_hash = ?",
                               arguments: [successor.tokenHash, presentedHash])
                try Self.insert(successor, familyID: familyID, db: db)
                return .rotated(family, graceRetry: true)
            }

            // Compare-and-set: only the request that flips used_at from NULL wins.
            try db.execute(
                sql: "UPDATE refresh_tokens SET used_at = ?, replaced_by = ? WHERE token_hash = ? AND used_at IS NULL",
                arguments: [now, successor.tokenHash, presentedHash])
            guard db.changesCount == 1 else {
                try Self.revoke(familyID: familyID, reason: "reuse", at: now, db: db)
                return .reused(familyID: familyID)
            }
            try Self.insert(successor, familyID: familyID, db: db)
            return .rotated(family, graceRetry: false)
        }
    }

    public func family(id: String) async throws -> TokenFamily? {
        try await pool.read { db in try Self.family(id: id, db: db) }
    }

    public func family(ofTokenHash hash: String) async throws -> TokenFamily? {
        try await pool.read { db in
            guard let familyID = try String.fetchOne(db, sql: "SELECT family_id FROM refresh_tokens WHERE token_hash = ?", arguments: [hash]) else {
                return nil
            }
            return try Self.family(id: familyID, db: db)
        }
    }

    public func revokeFamily(id: String, reason: String, at: Date) async throws -> Bool {
        try await pool.write { db in
            try Self.revoke(familyID: id, reason: reason, at: at.timeIntervalSince1970, db: db)
            return db.changesCount == 1
        }
    }

    public func liveFamily(ofRefreshTokenHash hash: String, at: Date) async throws -> TokenFamily? {
        try await pool.read { db in
            guard let familyID = try String.fetchOne(
                db, sql: "SELECT family_id FROM refresh_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                arguments: [hash, at.timeIntervalSince1970]) else { return nil }
            guard let family = try Self.family(id: familyID, db: db), family.revokedAt == nil else { return nil }
            return family
        }
    }

    public func endSessions(ofUserID userID: String, exceptFamily exceptFamilyID: String?, reason: String, at: Date) async throws -> EndedSessions {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE token_families SET revoked_at = ?, revoked_reason = ?
                    WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?
                    """,
                arguments: [at.timeIntervalSince1970, reason, userID, exceptFamilyID])
            let families = db.changesCount
            try db.execute(sql: "DELETE FROM browser_sessions WHERE user_id = ?", arguments: [userID])
            return EndedSessions(families: families, browserSessions: db.changesCount)
        }
    }

    public func revokeAccessToken(jti: String, expiresAt: Date, at: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO revoked_access_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?)",
                arguments: [jti, expiresAt.timeIntervalSince1970, at.timeIntervalSince1970])
        }
    }

    public func isAccessTokenRevoked(jti: String) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?)", arguments: [jti]) ?? false
        }
    }

    public func rolesIfAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                       rolesOfUserID: String?) async throws -> [String]? {
        try readRolesIfAccessTokenLive(jti: jti, sessionID: sessionID, subject: subject, clientID: clientID, requireUser: requireUser,
                                       rolesOfUserID: rolesOfUserID)
    }

    /// Always answered: the read is local and synchronous (a few indexed rows on a hot reader).
    public func rolesIfAccessTokenLiveImmediately(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                                  rolesOfUserID: String?) throws -> Immediate<[String]?> {
        .answered(try readRolesIfAccessTokenLive(jti: jti, sessionID: sessionID, subject: subject, clientID: clientID,
                                                 requireUser: requireUser, rolesOfUserID: rolesOfUserID))
    }

    /// From memory while the file is unchanged: the jti against the revoked ids
    /// (`RevokedTokenMemory`), the rest by what the token was granted under (`LivenessMemory`),
    /// which every token of one session shares.
    private func readRolesIfAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                            rolesOfUserID: String?) throws -> [String]? {
        guard try !revokedTokenMemory.isRevoked(jti, read: readRevocations) else { return nil }
        let grant = GrantQuestion(sessionID: sessionID, subject: subject, clientID: clientID, requireUser: requireUser,
                                  rolesOfUserID: rolesOfUserID)
        return try livenessMemory.answer(grant) {
            try readRolesIfGrantLive(grant)
        }
    }

    /// The removals count and the log's ids numbered after `sequence`, in one statement (one snapshot).
    private func readRevocations(after sequence: Int64) throws -> RevokedTokenMemory.LogRead {
        try hotReaders.read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT NULL, NULL, count FROM revoked_access_token_removals
                UNION ALL
                SELECT seq, jti, NULL FROM revoked_access_token_log WHERE seq > ?
                """)
            var removals: Int64 = 0
            var revocations: [(sequence: Int64, jti: String)] = []
            let rows = try Row.fetchCursor(statement, arguments: [sequence])
            while let row = try rows.next() {
                if let jti: String = row[1] {
                    revocations.append((row[0], jti))
                } else {
                    removals = row[2]
                }
            }
            return RevokedTokenMemory.LogRead(removals: removals, revocations: revocations)
        }
    }

    private func readRolesIfGrantLive(_ grant: GrantQuestion) throws -> [String]? {
        try hotReaders.read { db in
            guard try Self.isGrantLive(grant, db: db) else { return nil }
            guard let rolesOfUserID = grant.rolesOfUserID else { return [] }
            return try Self.roles(ofUserID: rolesOfUserID, db: db)
        }
    }

    /// One cached statement: the session (if any) is live and the subject's, the client (if any)
    /// still exists, and (if required) the user exists and is enabled.
    static func isGrantLive(_ grant: GrantQuestion, db: Database) throws -> Bool {
        let statement = try db.cachedStatement(sql: """
            SELECT (?1 IS NULL OR EXISTS (SELECT 1 FROM token_families WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL))
               AND (?3 = 0 OR EXISTS (SELECT 1 FROM users WHERE id = ?2 AND disabled = 0))
               AND (?4 IS NULL OR EXISTS (SELECT 1 FROM oauth_clients WHERE id = ?4))
            """)
        return try Bool.fetchOne(statement, arguments: [grant.sessionID, grant.subject, grant.requireUser, grant.clientID]) ?? false
    }

    static func insert(_ record: RefreshTokenRecord, familyID: String, db: Database) throws {
        try RefreshTokenRow(record, familyID: familyID).insert(db)
    }

    static func revoke(familyID: String, reason: String, at: Double, db: Database) throws {
        try db.execute(
            sql: "UPDATE token_families SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
            arguments: [at, reason, familyID])
    }

    static func family(id: String, db: Database) throws -> TokenFamily? {
        try TokenFamilyRecord.fetchOne(db, key: id)?.family
    }
}
