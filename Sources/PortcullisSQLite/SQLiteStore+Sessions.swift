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

    /// From memory while the file is unchanged (`LivenessMemory`), else read.
    private func readRolesIfAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool,
                                            rolesOfUserID: String?) throws -> [String]? {
        let question = LivenessQuestion(jti: jti, sessionID: sessionID, subject: subject, clientID: clientID, requireUser: requireUser,
                                        rolesOfUserID: rolesOfUserID)
        return try livenessMemory.answer(question) {
            try readRolesIfAccessTokenLive(question)
        }
    }

    private func readRolesIfAccessTokenLive(_ question: LivenessQuestion) throws -> [String]? {
        let (jti, sessionID, subject, clientID, requireUser, rolesOfUserID) =
            (question.jti, question.sessionID, question.subject, question.clientID, question.requireUser, question.rolesOfUserID)
        return try hotReaders.read { db in
            guard try Self.isAccessTokenLive(jti: jti, sessionID: sessionID, subject: subject, clientID: clientID, requireUser: requireUser, db: db) else {
                return nil
            }
            guard let rolesOfUserID else { return [] }
            return try Self.roles(ofUserID: rolesOfUserID, db: db)
        }
    }

    /// One cached statement: the token's jti is not revoked, its session (if any) is live and the
    /// subject's, its client (if any) still exists, and (if required) the user exists and is enabled.
    static func isAccessTokenLive(jti: String, sessionID: String?, subject: String, clientID: String?, requireUser: Bool, db: Database) throws -> Bool {
        let statement = try db.cachedStatement(sql: """
            SELECT NOT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?1)
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM token_families WHERE id = ?2 AND user_id = ?3 AND revoked_at IS NULL))
               AND (?4 = 0 OR EXISTS (SELECT 1 FROM users WHERE id = ?3 AND disabled = 0))
               AND (?5 IS NULL OR EXISTS (SELECT 1 FROM oauth_clients WHERE id = ?5))
            """)
        return try Bool.fetchOne(statement, arguments: [jti, sessionID, subject, requireUser, clientID]) ?? false
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
