public import Foundation
import GRDB
public import PortcullisCore
import PortcullisCrypto

extension SQLiteStore {
    static func json(_ strings: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(strings)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func strings(_ json: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }

    static func client(_ row: Row) -> OAuthClient {
        OAuthClient(
            id: row["id"], name: row["name"], secretHash: row["secret_hash"],
            redirectURIs: strings(row["redirect_uris"]), postLogoutRedirectURIs: strings(row["post_logout_redirect_uris"]),
            scopes: strings(row["scopes"]), grantTypes: strings(row["grant_types"]).compactMap(GrantType.init(rawValue:)),
            resources: strings(row["resources"]), pkceRequired: row["pkce_required"],
            idTokenAlgorithm: JWSAlgorithm(rawValue: row["id_token_alg"]) ?? .rs256,
            firstParty: row["first_party"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    public func createClient(_ client: OAuthClient) async throws {
        try await pool.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM oauth_clients WHERE id = ?", arguments: [client.id]) == nil else {
                throw PortcullisError.conflict("client \(client.id) exists")
            }
            try db.execute(
                sql: """
                    INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, scopes, grant_types,
                                               resources, pkce_required, id_token_alg, first_party, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [client.id, client.name, client.secretHash, Self.json(client.redirectURIs), Self.json(client.postLogoutRedirectURIs),
                            Self.json(client.scopes), Self.json(client.grantTypes.map(\.rawValue)), Self.json(client.resources),
                            client.pkceRequired, client.idTokenAlgorithm.rawValue, client.firstParty, client.createdAt.timeIntervalSince1970])
        }
    }

    public func client(id: String) async throws -> OAuthClient? {
        // Read at every client authentication (token, introspect, revoke): one row on a hot reader.
        try hotReaders.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM oauth_clients WHERE id = ?"), arguments: [id]).map(Self.client)
        }
    }

    public func allClients() async throws -> [OAuthClient] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM oauth_clients ORDER BY id").map(Self.client)
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
            try db.execute(
                sql: """
                    INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, amr,
                                             resources, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [record.codeHash, record.clientID, record.userID, record.redirectURI, record.scope, record.nonce,
                            record.codeChallenge, record.authTime.timeIntervalSince1970, Self.json(record.amr),
                            Self.json(record.resources), record.expiresAt.timeIntervalSince1970])
        }
    }

    public func redeemAuthorizationCode(hash: String, familyID: String, accessTokenID: String, at: Date,
                                        check: @Sendable (AuthorizationCodeRecord) -> OAuthError?) async throws -> CodeRedemption {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM oauth_codes WHERE code_hash = ?", arguments: [hash]) else { return .unknown }
            let nonce: String? = row["nonce"]
            let challenge: String? = row["code_challenge"]
            let usedAt: Double? = row["used_at"]
            let record = AuthorizationCodeRecord(
                codeHash: hash, clientID: row["client_id"], userID: row["user_id"], redirectURI: row["redirect_uri"],
                scope: row["scope"], nonce: nonce, codeChallenge: challenge, authTime: Date(timeIntervalSince1970: row["auth_time"]),
                amr: Self.strings(row["amr"]), resources: Self.strings(row["resources"]),
                expiresAt: Date(timeIntervalSince1970: row["expires_at"]), familyID: row["family_id"], accessTokenID: row["access_jti"])
            if usedAt != nil {
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
            try db.execute(
                sql: "INSERT INTO browser_sessions (id_hash, user_id, auth_time, amr, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [session.idHash, session.userID, session.authTime.timeIntervalSince1970, Self.json(session.amr),
                            session.expiresAt.timeIntervalSince1970])
        }
    }

    public func browserSession(idHash: String, at: Date) async throws -> BrowserSession? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM browser_sessions WHERE id_hash = ? AND expires_at > ?",
                             arguments: [idHash, at.timeIntervalSince1970]).map { row in
                BrowserSession(idHash: row["id_hash"], userID: row["user_id"], authTime: Date(timeIntervalSince1970: row["auth_time"]),
                               amr: Self.strings(row["amr"]), expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
            }
        }
    }

    public func deleteBrowserSession(idHash: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM browser_sessions WHERE id_hash = ?", arguments: [idHash])
            return db.changesCount == 1
        }
    }
}
