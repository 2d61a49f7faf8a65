import Foundation
public import Logging
import PortcullisCore
import PortcullisCrypto
public import PostgresNIO

/// The PostgreSQL schema as an append-only list of migrations, applied by `migrate` under an
/// advisory lock (two replicas starting at once never both migrate) with a checksum recorded for
/// each, so a database migrated by a different list is refused rather than patched.
public enum PostgresMigrations {
    /// One schema change: an id that never changes and its SQL, which never changes once shipped.
    public struct Migration: Sendable {
        /// Stable name, recorded in `schema_migrations`.
        public let id: String
        /// The statements, run in one transaction.
        public let sql: String
        /// The statements of `sql`, split at each `;` that ends a line.
        public var statements: [String] {
            sql.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
        }
        /// SHA-256 of `sql`, hex.
        public var checksum: String { Hex.encode(Digest.sha256(Array(sql.utf8))) }
    }

    /// Why the schema cannot be used or migrated.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// A migration recorded in the database has a different checksum here (edited after it shipped).
        case checksumMismatch(id: String)
        /// The database records a migration this binary does not know (it is newer than this binary).
        case unknownMigration(id: String)
        /// Migrations are pending and automatic migration is off.
        case behind(pending: [String])

        public var description: String {
            switch self {
            case .checksumMismatch(let id): "migration \(id) was applied with a different checksum; refusing to touch this database"
            case .unknownMigration(let id): "the database has migration \(id), which this binary does not know (is it older than the schema?)"
            case .behind(let pending): "the schema is behind: pending \(pending.joined(separator: ", ")); run `portcullis migrate` (or set PORTCULLIS_DB_AUTO_MIGRATE=1)"
            }
        }
    }

    /// Key of the advisory lock every migrating process takes.
    static let lockKey: Int64 = 0x706f_7274_6375_6c6c  // "portcull"

    /// Every migration, oldest first. Append only.
    public static let all: [Migration] = [
        Migration(id: "v1-schema", sql: """
            CREATE TABLE users (
                id text PRIMARY KEY,
                username text NOT NULL,
                username_key text NOT NULL UNIQUE,
                email text,
                password_hash text NOT NULL,
                disabled boolean NOT NULL DEFAULT false,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL
            );
            CREATE TABLE role_grants (
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role text NOT NULL,
                granted_at double precision NOT NULL,
                PRIMARY KEY (user_id, role)
            );
            CREATE TABLE oauth_clients (
                id text PRIMARY KEY,
                name text NOT NULL,
                secret_hash text,
                redirect_uris text NOT NULL,
                post_logout_redirect_uris text NOT NULL,
                scopes text NOT NULL,
                grant_types text NOT NULL,
                id_token_alg text NOT NULL,
                first_party boolean NOT NULL,
                created_at double precision NOT NULL,
                resources text NOT NULL DEFAULT '[]',
                pkce_required boolean NOT NULL DEFAULT true
            );
            CREATE TABLE token_families (
                id text PRIMARY KEY,
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                client_id text REFERENCES oauth_clients(id) ON DELETE CASCADE,
                scope text NOT NULL,
                resources text NOT NULL DEFAULT '[]',
                created_at double precision NOT NULL,
                revoked_at double precision,
                revoked_reason text
            );
            CREATE INDEX token_families_user ON token_families(user_id);
            CREATE TABLE refresh_tokens (
                token_hash text PRIMARY KEY,
                family_id text NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
                issued_at double precision NOT NULL,
                expires_at double precision NOT NULL,
                used_at double precision,
                replaced_by text
            );
            CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
            CREATE TABLE revoked_access_tokens (
                jti text PRIMARY KEY,
                expires_at double precision NOT NULL,
                revoked_at double precision NOT NULL
            );
            CREATE TABLE account_lockouts (
                key text PRIMARY KEY,
                failures integer NOT NULL,
                locked_until double precision,
                last_attempt_at double precision
            );
            CREATE TABLE audit_events (
                id bigint PRIMARY KEY,
                at double precision NOT NULL,
                action text NOT NULL,
                actor text NOT NULL,
                subject text,
                remote_address text,
                detail text,
                content_hash text NOT NULL,
                previous_hash text NOT NULL UNIQUE,
                chain_hash text NOT NULL,
                pseudonymised boolean NOT NULL DEFAULT false
            );
            CREATE TABLE audit_head (
                id integer PRIMARY KEY CHECK (id = 1),
                seq bigint NOT NULL,
                chain_hash text NOT NULL
            );
            INSERT INTO audit_head (id, seq, chain_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
            CREATE TABLE totp_credentials (
                user_id text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                sealed_secret bytea NOT NULL,
                algorithm text NOT NULL,
                digits integer NOT NULL,
                period integer NOT NULL,
                created_at double precision NOT NULL,
                confirmed_at double precision,
                last_step bigint
            );
            CREATE TABLE recovery_codes (
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                code_hash text NOT NULL,
                used_at double precision,
                PRIMARY KEY (user_id, code_hash)
            );
            CREATE TABLE mfa_challenges (
                token_hash text PRIMARY KEY,
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                expires_at double precision NOT NULL,
                failures integer NOT NULL DEFAULT 0
            );
            CREATE TABLE decision_log (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at double precision NOT NULL,
                subject text NOT NULL,
                granted_roles text NOT NULL,
                action text NOT NULL,
                resource text NOT NULL,
                allowed boolean NOT NULL,
                rule text,
                policy_version text NOT NULL
            );
            CREATE TABLE oauth_codes (
                code_hash text PRIMARY KEY,
                client_id text NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                redirect_uri text NOT NULL,
                scope text NOT NULL,
                resources text NOT NULL DEFAULT '[]',
                nonce text,
                code_challenge text,
                auth_time double precision NOT NULL,
                amr text NOT NULL,
                expires_at double precision NOT NULL,
                used_at double precision,
                family_id text,
                access_jti text,
                replayed_at double precision
            );
            CREATE TABLE oauth_consents (
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                client_id text NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
                scope text NOT NULL,
                granted_at double precision NOT NULL,
                PRIMARY KEY (user_id, client_id)
            );
            CREATE TABLE browser_sessions (
                id_hash text PRIMARY KEY,
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                auth_time double precision NOT NULL,
                amr text NOT NULL,
                expires_at double precision NOT NULL
            );
            CREATE INDEX browser_sessions_user ON browser_sessions(user_id);
            """),
        // Issue 16: the per-address limit, shared by every replica (`AddressThrottleStore`).
        Migration(id: "v2-address-throttles", sql: """
            CREATE TABLE address_throttles (
                key text PRIMARY KEY,
                recent_failures text NOT NULL,
                trips integer NOT NULL,
                locked_until double precision,
                expires_at double precision NOT NULL
            );
            CREATE INDEX address_throttles_expires ON address_throttles(expires_at);
            """),
        Migration(id: "v3-signing-keys", sql: """
            CREATE TABLE signing_keys (
                kid text PRIMARY KEY,
                alg text NOT NULL,
                sealed_private_key bytea NOT NULL,
                sealed_with text NOT NULL,
                signs boolean NOT NULL,
                created_at double precision NOT NULL,
                activates_at double precision NOT NULL,
                retired_at double precision
            )
            """),
        // Every change that can end a token announces itself inside its transaction, whichever
        // code (or operator) makes it: replicas with a revocation cache flush it. The payload is
        // the schema, so deployments sharing a database in separate schemas do not flush each other.
        Migration(id: "v4-revocation-notify", sql: """
            CREATE FUNCTION portcullis_notify_revocation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('portcullis_revocations', TG_TABLE_SCHEMA); RETURN NULL; END $$;
            CREATE TRIGGER revoked_access_tokens_notify AFTER INSERT OR UPDATE OR DELETE ON revoked_access_tokens FOR EACH STATEMENT EXECUTE FUNCTION portcullis_notify_revocation();
            CREATE TRIGGER token_families_notify AFTER UPDATE OR DELETE ON token_families FOR EACH STATEMENT EXECUTE FUNCTION portcullis_notify_revocation();
            CREATE TRIGGER users_notify AFTER UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION portcullis_notify_revocation();
            CREATE TRIGGER oauth_clients_notify AFTER UPDATE OR DELETE ON oauth_clients FOR EACH STATEMENT EXECUTE FUNCTION portcullis_notify_revocation();
            CREATE TRIGGER role_grants_notify AFTER INSERT OR UPDATE OR DELETE ON role_grants FOR EACH STATEMENT EXECUTE FUNCTION portcullis_notify_revocation()
            """),
        // Passkeys (`PasskeyStore`): credentials, the per-user WebAuthn user handle, and challenges
        // of ceremonies in progress (indexed by expiry for the sweep: a passkey login asks for
        // one before anyone is named).
        Migration(id: "v5-passkeys", sql: """
            CREATE TABLE webauthn_user_handles (
                user_id text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                handle bytea NOT NULL UNIQUE
            );
            CREATE TABLE webauthn_credentials (
                id text PRIMARY KEY,
                user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                credential_id bytea NOT NULL UNIQUE,
                public_key bytea NOT NULL,
                algorithm integer NOT NULL,
                sign_count bigint NOT NULL,
                transports text NOT NULL,
                backup_eligible boolean NOT NULL,
                backed_up boolean NOT NULL,
                name text NOT NULL,
                created_at double precision NOT NULL,
                last_used_at double precision,
                flagged_at double precision,
                aaguid bytea NOT NULL,
                attestation_format text NOT NULL
            );
            CREATE INDEX webauthn_credentials_user ON webauthn_credentials(user_id);
            CREATE TABLE webauthn_challenges (
                key text PRIMARY KEY,
                purpose text NOT NULL,
                user_id text REFERENCES users(id) ON DELETE CASCADE,
                challenge bytea NOT NULL,
                expires_at double precision NOT NULL
            );
            CREATE INDEX webauthn_challenges_expires ON webauthn_challenges(expires_at)
            """),
    ]

    /// The ids of migrations not yet applied; throws a `Problem` when the recorded history differs from `all`.
    public static func pending(client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withConnection { connection in try await pending(connection: connection, logger: logger) }
    }

    /// Applies every pending migration under the advisory lock; returns the ids applied.
    @discardableResult
    public static func migrate(client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withConnection { connection in
            try await connection.execute("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                try await connection.execute("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, checksum text NOT NULL, applied_at double precision NOT NULL)
                    """, logger: logger)
                let pending = try await pending(connection: connection, logger: logger)
                for id in pending {
                    guard let migration = all.first(where: { $0.id == id }) else { continue }
                    try await connection.withTransaction(logger: logger) { connection in
                        // The extended protocol takes one statement at a time.
                        for statement in migration.statements {
                            try await connection.execute(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.execute(
                            "INSERT INTO schema_migrations (id, checksum, applied_at) VALUES (\(migration.id), \(migration.checksum), \(Date().timeIntervalSince1970))",
                            logger: logger)
                    }
                }
                try await connection.execute("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                return pending
            } catch {
                try? await connection.execute("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw PostgresStore.underlying(error)
            }
        }
    }

    static func pending(connection: PostgresConnection, logger: Logger) async throws -> [String] {
        let exists = try await connection.rows("SELECT to_regclass('schema_migrations') IS NOT NULL AS present", logger: logger)
        guard try exists.first?.value("present", as: Bool.self) == true else { return all.map(\.id) }
        var recorded: [String: String] = [:]
        for row in try await connection.rows("SELECT id, checksum FROM schema_migrations", logger: logger) {
            recorded[try row.value("id", as: String.self)] = try row.value("checksum", as: String.self)
        }
        switch status(recorded: recorded) {
        case .current: return []
        case .behind(let pending): return pending
        case .ahead(let unknown): throw Problem.unknownMigration(id: unknown[0])
        case .diverged(let ids): throw Problem.checksumMismatch(id: ids[0])
        }
    }

    /// The recorded history (id → checksum) against `all`: `ahead` when it has a migration `all`
    /// lacks, else `diverged` when a checksum differs, else `behind` or `current`.
    static func status(recorded: [String: String]) -> SchemaStatus {
        let comparison = SchemaStatus.comparing(applied: Set(recorded.keys), known: all.map(\.id))
        if case .ahead = comparison { return comparison }
        let mismatched = all.filter { migration in recorded[migration.id].map { $0 != migration.checksum } ?? false }.map(\.id)
        return mismatched.isEmpty ? comparison : .diverged(ids: mismatched)
    }
}
