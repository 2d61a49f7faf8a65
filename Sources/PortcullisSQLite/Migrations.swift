import Foundation
import GRDB
import PortcullisCore

/// The one migrator. A shipped migration is never edited: add a new one.
enum Migrations {
    /// Every migration's identifier, oldest first.
    static let identifiers = migrator.migrations

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-backbone") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY NOT NULL,
                    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    email TEXT,
                    password_hash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE TABLE role_grants (
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    granted_at REAL NOT NULL,
                    PRIMARY KEY (user_id, role)
                ) WITHOUT ROWID;
                CREATE TABLE token_families (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    scope TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    revoked_at REAL,
                    revoked_reason TEXT
                );
                CREATE INDEX token_families_user ON token_families(user_id);
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY NOT NULL,
                    family_id TEXT NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
                    issued_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    used_at REAL,
                    replaced_by TEXT
                );
                CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
                CREATE TABLE revoked_access_tokens (
                    jti TEXT PRIMARY KEY NOT NULL,
                    expires_at REAL NOT NULL,
                    revoked_at REAL NOT NULL
                );
                CREATE TABLE account_lockouts (
                    key TEXT PRIMARY KEY NOT NULL,
                    failures INTEGER NOT NULL,
                    locked_until REAL
                );
                CREATE TABLE audit_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at REAL NOT NULL,
                    action TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    subject TEXT,
                    remote_address TEXT,
                    detail TEXT
                );
                """)
        }
        migrator.registerMigration("v2-totp") { db in
            try db.execute(sql: """
                CREATE TABLE totp_credentials (
                    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    sealed_secret BLOB NOT NULL,
                    algorithm TEXT NOT NULL,
                    digits INTEGER NOT NULL,
                    period INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    confirmed_at REAL,
                    last_step INTEGER
                );
                CREATE TABLE recovery_codes (
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    code_hash TEXT NOT NULL,
                    used_at REAL,
                    PRIMARY KEY (user_id, code_hash)
                ) WITHOUT ROWID;
                CREATE TABLE mfa_challenges (
                    token_hash TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    expires_at REAL NOT NULL,
                    failures INTEGER NOT NULL DEFAULT 0
                );
                """)
        }
        migrator.registerMigration("v3-decision-log") { db in
            try db.execute(sql: """
                CREATE TABLE decision_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at REAL NOT NULL,
                    subject TEXT NOT NULL,
                    granted_roles TEXT NOT NULL,
                    action TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    allowed INTEGER NOT NULL,
                    rule TEXT,
                    policy_version TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-oauth") { db in
            try db.execute(sql: """
                CREATE TABLE oauth_clients (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    secret_hash TEXT,
                    redirect_uris TEXT NOT NULL,
                    post_logout_redirect_uris TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    grant_types TEXT NOT NULL,
                    id_token_alg TEXT NOT NULL,
                    first_party INTEGER NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE TABLE oauth_codes (
                    code_hash TEXT PRIMARY KEY NOT NULL,
                    client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    redirect_uri TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    nonce TEXT,
                    code_challenge TEXT,
                    auth_time REAL NOT NULL,
                    amr TEXT NOT NULL,
                    expires_at REAL NOT NULL,
                    used_at REAL,
                    family_id TEXT,
                    access_jti TEXT,
                    replayed_at REAL
                );
                CREATE TABLE oauth_consents (
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    client_id TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
                    scope TEXT NOT NULL,
                    granted_at REAL NOT NULL,
                    PRIMARY KEY (user_id, client_id)
                ) WITHOUT ROWID;
                CREATE TABLE browser_sessions (
                    id_hash TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    auth_time REAL NOT NULL,
                    amr TEXT NOT NULL,
                    expires_at REAL NOT NULL
                );
                ALTER TABLE token_families ADD COLUMN client_id TEXT REFERENCES oauth_clients(id) ON DELETE CASCADE;
                """)
        }
        migrator.registerMigration("v5-audit-chain") { db in
            try db.execute(sql: """
                ALTER TABLE audit_events ADD COLUMN content_hash TEXT;
                ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;
                ALTER TABLE audit_events ADD COLUMN pseudonymised INTEGER NOT NULL DEFAULT 0;
                """)
            // Chain the events written before this migration, oldest first.
            var previous = AuditChain.genesis
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit_events ORDER BY id") {
                let content = AuditChain.contentHash(SQLiteStore.auditEvent(row))
                previous = AuditChain.link(previous: previous, content: content)
                let id: Int64 = row["id"]
                try db.execute(sql: "UPDATE audit_events SET content_hash = ?, chain_hash = ? WHERE id = ?", arguments: [content, previous, id])
            }
        }
        migrator.registerMigration("v6-trust-model") { db in
            // Issue 13: RFC 8707 resources on clients, codes and families; PKCE required for
            // confidential clients unless registered optional (RFC 9700 section 2.1.1).
            try db.execute(sql: """
                ALTER TABLE oauth_clients ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE oauth_clients ADD COLUMN pkce_required INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE oauth_codes ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE token_families ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
                CREATE INDEX browser_sessions_user ON browser_sessions(user_id);
                ALTER TABLE account_lockouts ADD COLUMN last_attempt_at REAL;
                """)
        }
        migrator.registerMigration("v7-username-key") { db in
            // Issue 15: one case-folding rule for usernames, computed in Swift for every backend
            // (`User.key(forUsername:)`: NFC, then Unicode lowercasing). COLLATE NOCASE folds ASCII
            // only, so "Ä" and "ä" were two names; two existing users that fold to one name stop
            // the upgrade here, naming both, rather than one of them silently losing their login.
            try db.execute(sql: "ALTER TABLE users ADD COLUMN username_key TEXT")
            var owners: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, username FROM users ORDER BY created_at, id") {
                let id: String = row["id"]
                let username: String = row["username"]
                let key = User.key(forUsername: username)
                if let other = owners[key] {
                    throw PortcullisError.conflict(
                        "cannot add the case-insensitive username key: users \"\(other)\" and \"\(username)\" are the same name after "
                            + "case folding (\"\(key)\"); rename one of them with the previous version, then upgrade")
                }
                owners[key] = username
                try db.execute(sql: "UPDATE users SET username_key = ? WHERE id = ?", arguments: [key, id])
            }
            try db.execute(sql: "CREATE UNIQUE INDEX users_username_key ON users(username_key)")
        }
        migrator.registerMigration("v8-address-throttles") { db in
            // Issue 16: the per-address limit moves from each process's memory into the database,
            // so every replica counts into one budget (`AddressThrottleStore`).
            try db.execute(sql: """
                CREATE TABLE address_throttles (
                    key TEXT PRIMARY KEY NOT NULL,
                    recent_failures TEXT NOT NULL,
                    trips INTEGER NOT NULL,
                    locked_until REAL,
                    expires_at REAL NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX address_throttles_expires ON address_throttles(expires_at);
                """)
        }
        migrator.registerMigration("v9-passkeys") { db in
            // Passkeys (`PasskeyStore`): credentials, the per-user WebAuthn user handle, and
            // challenges of ceremonies in progress. Challenges can be asked for before anyone is
            // named (a passkey login), so the sweep that removes expired ones has an index.
            try db.execute(sql: """
                CREATE TABLE webauthn_user_handles (
                    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    handle BLOB NOT NULL UNIQUE
                );
                CREATE TABLE webauthn_credentials (
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    credential_id BLOB NOT NULL UNIQUE,
                    public_key BLOB NOT NULL,
                    algorithm INTEGER NOT NULL,
                    sign_count INTEGER NOT NULL,
                    transports TEXT NOT NULL,
                    backup_eligible INTEGER NOT NULL,
                    backed_up INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_used_at REAL,
                    flagged_at REAL,
                    aaguid BLOB NOT NULL,
                    attestation_format TEXT NOT NULL
                );
                CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id);
                CREATE TABLE webauthn_challenges (
                    key TEXT PRIMARY KEY NOT NULL,
                    purpose TEXT NOT NULL,
                    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
                    challenge BLOB NOT NULL,
                    expires_at REAL NOT NULL
                );
                CREATE INDEX webauthn_challenges_expires ON webauthn_challenges(expires_at);
                """)
        }
        migrator.registerMigration("v10-revocation-log") { db in
            // Issue 17: the token check keeps the revoked ids in memory (`RevokedTokenMemory`)
            // and reads only what changed. Triggers give every id written to
            // `revoked_access_tokens`, by any process, a number higher than any in the log, and
            // count every removal. A number can be used again only after the highest row was
            // removed, and a moved count makes a memory read the whole log again, so "numbered
            // after the last one read" misses nothing.
            try db.execute(sql: """
                CREATE TABLE revoked_access_token_log (
                    seq INTEGER PRIMARY KEY,
                    jti TEXT NOT NULL
                );
                CREATE INDEX revoked_access_token_log_jti ON revoked_access_token_log(jti);
                INSERT INTO revoked_access_token_log (jti) SELECT jti FROM revoked_access_tokens;
                CREATE TABLE revoked_access_token_removals (count INTEGER NOT NULL);
                INSERT INTO revoked_access_token_removals (count) VALUES (0);
                CREATE TRIGGER revoked_access_tokens_inserted AFTER INSERT ON revoked_access_tokens BEGIN
                    INSERT INTO revoked_access_token_log (jti) VALUES (NEW.jti);
                END;
                CREATE TRIGGER revoked_access_tokens_updated AFTER UPDATE OF jti ON revoked_access_tokens BEGIN
                    DELETE FROM revoked_access_token_log WHERE jti = OLD.jti;
                    UPDATE revoked_access_token_removals SET count = count + 1;
                    INSERT INTO revoked_access_token_log (jti) VALUES (NEW.jti);
                END;
                CREATE TRIGGER revoked_access_tokens_deleted AFTER DELETE ON revoked_access_tokens BEGIN
                    DELETE FROM revoked_access_token_log WHERE jti = OLD.jti;
                    UPDATE revoked_access_token_removals SET count = count + 1;
                END;
                """)
        }
        return migrator
    }
}

extension SQLiteStore {
    /// The migrations the file at `path` lacks (all of them for a file that does not exist yet),
    /// read without changing anything: for `serve` with PORTCULLIS_DB_AUTO_MIGRATE=0.
    public static func pendingMigrations(path: String) throws -> [String] {
        let migrator = Migrations.migrator
        guard FileManager.default.fileExists(atPath: path) else { return migrator.migrations }
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let applied = try queue.read { db in try migrator.appliedIdentifiers(db) }
        return migrator.migrations.filter { !applied.contains($0) }
    }
}
