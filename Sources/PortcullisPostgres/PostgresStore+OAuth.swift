public import Foundation
public import PortcullisCore
import PortcullisCrypto
import PostgresNIO

extension PostgresStore: ClientStore, AuthorizationCodeStore, ConsentStore, BrowserSessionStore {
    // MARK: ClientStore

    public func createClient(_ client: OAuthClient) async throws {
        do {
            try await execute("""
                INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, post_logout_redirect_uris, scopes, grant_types,
                                           id_token_alg, first_party, created_at, resources, pkce_required)
                VALUES (\(client.id), \(client.name), \(client.secretHash), \(jsonList(client.redirectURIs)),
                        \(jsonList(client.postLogoutRedirectURIs)), \(jsonList(client.scopes)), \(jsonList(client.grantTypes.map(\.rawValue))),
                        \(client.idTokenAlgorithm.rawValue), \(client.firstParty), \(client.createdAt.timeIntervalSince1970),
                        \(jsonList(client.resources)), \(client.pkceRequired))
                """)
        } catch where Self.isUniqueViolation(error) {
            throw PortcullisError.conflict("client \(client.id) exists")
        }
    }

    /// Always `.mustWait`: clients live in the shared database.
    public func clientImmediately(id: String) throws -> Immediate<OAuthClient?> {
        .mustWait
    }

    public func client(id: String) async throws -> OAuthClient? {
        // Read at every client authentication (token, introspect, revoke): concurrent reads share
        // one prepared statement.
        try await clientReads.answer(id) { [self] ids in
            try inQuestionOrder(try await prepared(ClientsByID(keys: ids)), count: ids.count)
        }
    }

    public func allClients() async throws -> [OAuthClient] {
        try await rows("SELECT * FROM oauth_clients ORDER BY id").map(Self.oauthClient)
    }

    public func deleteClient(id: String) async throws -> Bool {
        defer { tokensMayHaveEnded() }
        // Codes, consents and token families go with it (ON DELETE CASCADE).
        return try await !rows("DELETE FROM oauth_clients WHERE id = \(id) RETURNING id").isEmpty
    }

    static func oauthClient(_ row: PostgresRandomAccessRow) throws -> OAuthClient {
        OAuthClient(id: try row.value("id"), name: try row.value("name"), secretHash: try row.value("secret_hash"),
                    redirectURIs: try row.stringList("redirect_uris"), postLogoutRedirectURIs: try row.stringList("post_logout_redirect_uris"),
                    scopes: try row.stringList("scopes"),
                    // An unknown grant type in the database is skipped, not an error.
                    grantTypes: try row.stringList("grant_types").compactMap(GrantType.init(rawValue:)),
                    resources: try row.stringList("resources"), pkceRequired: try row.value("pkce_required"),
                    idTokenAlgorithm: JWSAlgorithm(rawValue: try row.value("id_token_alg", as: String.self)) ?? .rs256,
                    firstParty: try row.value("first_party"), createdAt: try row.date("created_at"))
    }

    // MARK: AuthorizationCodeStore

    public func createAuthorizationCode(_ record: AuthorizationCodeRecord) async throws {
        // Unused and unreplayed, whatever the caller's record says.
        try await execute("""
            INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope, resources, nonce, code_challenge, auth_time, amr,
                                     expires_at, used_at, family_id, access_jti, replayed_at)
            VALUES (\(record.codeHash), \(record.clientID), \(record.userID), \(record.redirectURI), \(record.scope), \(jsonList(record.resources)),
                    \(record.nonce), \(record.codeChallenge), \(record.authTime.timeIntervalSince1970), \(jsonList(record.amr)),
                    \(record.expiresAt.timeIntervalSince1970), NULL, NULL, NULL, NULL)
            """)
    }

    /// Redemption under the code's row lock: concurrent redemptions of one code queue on it, and
    /// each sees what the one before it committed (READ COMMITTED re-reads a locked row). The
    /// consuming `UPDATE … WHERE used_at IS NULL RETURNING` is the compare-and-set itself.
    public func redeemAuthorizationCode(hash: String, familyID: String, accessTokenID: String, at: Date,
                                        check: @Sendable (AuthorizationCodeRecord) -> OAuthError?) async throws -> CodeRedemption {
        defer { tokensMayHaveEnded() }
        let now = at.timeIntervalSince1970
        let logger = self.logger
        // The transaction finishes before this method returns: `check` does not really escape.
        return try await withoutActuallyEscaping(check) { check in try await transaction { connection in
            guard let row = try await connection.rows("SELECT * FROM oauth_codes WHERE code_hash = \(hash) FOR UPDATE", logger: logger).first else {
                return .unknown
            }
            let record = try Self.authorizationCode(row)
            if try row.value("used_at", as: Double?.self) != nil {
                try await connection.execute("UPDATE oauth_codes SET replayed_at = \(now) WHERE code_hash = \(hash)", logger: logger)
                if let family = record.familyID {
                    try await Self.revoke(familyID: family, reason: "code_replay", at: now, connection: connection, logger: logger)
                }
                return .replayed(record)
            }
            // The request is checked against the code before it is consumed: a holder of a leaked
            // code with the wrong client, redirect URI or verifier cannot burn it.
            if let problem = check(record) { return .rejected(problem) }
            // Compare-and-set: only the request that flips used_at from NULL redeems the code.
            let won = try await connection.rows("""
                UPDATE oauth_codes SET used_at = \(now), family_id = \(familyID), access_jti = \(accessTokenID)
                WHERE code_hash = \(hash) AND used_at IS NULL RETURNING code_hash
                """, logger: logger)
            guard !won.isEmpty else { return .unknown }
            var redeemed = record
            redeemed.familyID = familyID
            redeemed.accessTokenID = accessTokenID
            return .redeemed(redeemed)
        } }
    }

    public func wasAuthorizationCodeReplayed(hash: String) async throws -> Bool {
        try await row("SELECT replayed_at IS NOT NULL AS replayed FROM oauth_codes WHERE code_hash = \(hash)")?
            .value("replayed", as: Bool.self) ?? false
    }

    static func authorizationCode(_ row: PostgresRandomAccessRow) throws -> AuthorizationCodeRecord {
        AuthorizationCodeRecord(codeHash: try row.value("code_hash"), clientID: try row.value("client_id"), userID: try row.value("user_id"),
                                redirectURI: try row.value("redirect_uri"), scope: try row.value("scope"), nonce: try row.value("nonce"),
                                codeChallenge: try row.value("code_challenge"), authTime: try row.date("auth_time"),
                                amr: try row.stringList("amr"), resources: try row.stringList("resources"), expiresAt: try row.date("expires_at"),
                                familyID: try row.value("family_id"), accessTokenID: try row.value("access_jti"))
    }

    // MARK: ConsentStore

    public func consentedScopes(userID: String, clientID: String) async throws -> Set<String> {
        let scope = try await row("SELECT scope FROM oauth_consents WHERE user_id = \(userID) AND client_id = \(clientID)")?
            .value("scope", as: String.self)
        return Set((scope ?? "").split(separator: " ").map(String.init))
    }

    /// Merges under the consent row's lock: the upsert creates the row or locks the existing one
    /// in one statement, so two concurrent merges cannot both start from the same old scope.
    public func recordConsent(userID: String, clientID: String, scopes: Set<String>, at: Date) async throws {
        let logger = self.logger
        try await transaction { connection in
            guard let row = try await connection.rows("""
                INSERT INTO oauth_consents (user_id, client_id, scope, granted_at) VALUES (\(userID), \(clientID), '', \(at.timeIntervalSince1970))
                ON CONFLICT (user_id, client_id) DO UPDATE SET user_id = EXCLUDED.user_id
                RETURNING scope
                """, logger: logger).first else { throw PortcullisError.internalFailure("consent upsert returned nothing") }
            let existing = try row.value("scope", as: String.self)
            let merged = Set(existing.split(separator: " ").map(String.init)).union(scopes).sorted().joined(separator: " ")
            try await connection.execute("""
                UPDATE oauth_consents SET scope = \(merged), granted_at = \(at.timeIntervalSince1970)
                WHERE user_id = \(userID) AND client_id = \(clientID)
                """, logger: logger)
        }
    }

    // MARK: BrowserSessionStore

    public func createBrowserSession(_ session: BrowserSession) async throws {
        try await execute("""
            INSERT INTO browser_sessions (id_hash, user_id, auth_time, amr, expires_at)
            VALUES (\(session.idHash), \(session.userID), \(session.authTime.timeIntervalSince1970), \(jsonList(session.amr)),
                    \(session.expiresAt.timeIntervalSince1970))
            """)
    }

    public func browserSession(idHash: String, at: Date) async throws -> BrowserSession? {
        try await row("SELECT * FROM browser_sessions WHERE id_hash = \(idHash) AND expires_at > \(at.timeIntervalSince1970)").map { row in
            BrowserSession(idHash: try row.value("id_hash"), userID: try row.value("user_id"), authTime: try row.date("auth_time"),
                           amr: try row.stringList("amr"), expiresAt: try row.date("expires_at"))
        }
    }

    public func deleteBrowserSession(idHash: String) async throws -> Bool {
        try await !rows("DELETE FROM browser_sessions WHERE id_hash = \(idHash) RETURNING id_hash").isEmpty
    }
}

/// `client(id:)` for a batch of ids, prepared once per connection: a row per id, the client's
/// columns NULL when there is none.
struct ClientsByID: BatchedKeysStatement {
    // Named columns: a `*` would change the prepared result type when a migration adds a column.
    static let sql = """
        SELECT q.i, c.id, c.name, c.secret_hash, c.redirect_uris, c.post_logout_redirect_uris, c.scopes, c.grant_types, c.id_token_alg,
               c.first_party, c.created_at, c.resources, c.pkce_required
        FROM unnest($1::text[]) WITH ORDINALITY AS q(wanted, i) LEFT JOIN oauth_clients c ON c.id = q.wanted
        """
    typealias Row = (index: Int64, answer: OAuthClient?)
    /// Client ids.
    let keys: [String]

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let columns = row.makeRandomAccess()
        let index = try columns.value("i", as: Int64.self)
        guard try columns.value("id", as: String?.self) != nil else { return (index, nil) }
        return (index, try PostgresStore.oauthClient(columns))
    }
}
