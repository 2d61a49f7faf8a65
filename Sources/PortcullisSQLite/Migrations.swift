import GRDB

/// The one migrator. A shipped migration is never edited: add a new one.
enum Migrations {
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
        return migrator
    }
}
