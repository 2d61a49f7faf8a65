public import Foundation
import GRDB
public import PortcullisCore
import PortcullisCrypto

extension SQLiteStore {
    public func createClient(_ client: OAuthClient) async throws {
        try await pool.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM oauth_clients WHERE id = ?", arguments: [client.id]) == nil else {
                throw PortcullisError.conflict("client \(client.id) exists")
            }
            try ClientRecord(client).insert(db)
        }
    }

    public func client(id: String) async throws -> OAuthClient? {
        try clientMemory.answer(id) { try readClient(id: id) }
    }

    /// Always answered: from memory while the file is unchanged (`ClientMemory`), else a local
    /// read on a hot reader.
    public func clientImmediately(id: String) throws -> Immediate<OAuthClient?> {
        .answered(try clientMemory.answer(id) { try readClient(id: id) })
    }

    private func readClient(id: String) throws -> OAuthClient? {
        // Read at every client authentication (token, introspect, revoke): one row on a hot reader.
        try hotReaders.read { db in
            try ClientRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM oauth_clients WHERE id = ?"), arguments: [id])?.client
        }
    }

    public func allClients() async throws -> [OAuthClient] {
        try await pool.read { db in
            try ClientRecord.fetchAll(db, sql: "SELECT * FROM oauth_clients ORDER BY id").map(\.client)
        }
    }

    public func deleteClient(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM oauth_clients WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func createAuthorizationCode(_ record: AuthorizationCodeRecord) async throws {
        try await pool.write { db in
            // Unused and unreplayed, whatever the caller's record says.
            var row = AuthorizationCodeRow(record)
            row.familyID = nil
            row.accessTokenID = nil
            try row.insert(db)
        }
    }

    public func redeemAuthorizationCode(hash: String, familyID: String, accessTokenID: String, at: Date,
                                        check: @Sendable (AuthorizationCodeRecord) -> OAuthError?) async throws -> CodeRedemption {
        try await pool.write { db in
            guard let row = try AuthorizationCodeRow.fetchOne(db, key: hash) else { return .unknown }
            let record = row.code
            if row.usedAt != nil {
                try db.execute(sql: "UPDATE oauth_codes SET replayed_at = ? WHERE code_hash = ?", arguments: [at.timeIntervalSince1970, hash])
                if let family = record.familyID {
                    try Self.revoke(familyID: family, reason: "code_replay", at: at.timeIntervalSince1970, db: db)
                }
                return .replayed(record)
            }
            // The request is checked against the code before it is consumed: a holder of a leaked
            // code with the wrong client, redirect URI or verifier cannot burn it.
            if let problem = check(record) { return .rejected(problem) }
            // Compare-and-set: only the request that flips used_at from NULL redeems the code.
            try db.execute(
                sql: "UPDATE oauth_codes SET used_at = ?, family_id = ?, access_jti = ? WHERE code_hash = ? AND used_at IS NULL",
                arguments: [at.timeIntervalSince1970, familyID, accessTokenID, hash])
            guard db.changesCount == 1 else { return .unknown }
            var redeemed = record
            redeemed.familyID = familyID
            redeemed.accessTokenID = accessTokenID
            return .redeemed(redeemed)
        }
    }

    public func wasAuthorizationCodeReplayed(hash: String) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT replayed_at IS NOT NULL FROM oauth_codes WHERE code_hash = ?", arguments: [hash]) ?? false
        }
    }

    public func consentedScopes(userID: String, clientID: String) async throws -> Set<String> {
        try await pool.read { db in
            let scope = try String.fetchOne(db, sql: "SELECT scope FROM oauth_consents WHERE user_id = ? AND client_id = ?", arguments: [userID, clientID])
            return Set((scope ?? "").split(separator: " ").map(String.init))
        }
    }

    public func recordConsent(userID: String, clientID: String, scopes: Set<String>, at: Date) async throws {
        try await pool.write { db in
            let existing = try String.fetchOne(db, sql: "SELECT scope FROM oauth_consents WHERE user_id = ? AND client_id = ?", arguments: [userID, clientID])
            let merged = Set((existing ?? "").split(separator: " ").map(String.init)).union(scopes)
            try db.execute(
                sql: "INSERT OR REPLACE INTO oauth_consents (user_id, client_id, scope, granted_at) VALUES (?, ?, ?, ?)",
                arguments: [userID, clientID, merged.sorted().joined(separator: " "), at.timeIntervalSince1970])
        }
    }

    public func createBrowserSession(_ session: BrowserSession) async throws {
        try await pool.write { db in
            try BrowserSessionRecord(session).insert(db)
        }
    }

    public func browserSession(idHash: String, at: Date) async throws -> BrowserSession? {
        try await pool.read { db in
            try BrowserSessionRecord.fetchOne(db, sql: "SELECT * FROM browser_sessions WHERE id_hash = ? AND expires_at > ?",
                                              arguments: [idHash, at.timeIntervalSince1970])?.session
        }
    }

    public func deleteBrowserSession(idHash: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM browser_sessions WHERE id_hash = ?", arguments: [idHash])
            return db.changesCount == 1
        }
    }
}
