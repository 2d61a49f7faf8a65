public import Foundation
public import Logging
public import PortcullisCrypto

/// How log lines are written: `key=value` text or one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-25T10:45:17.123Z info portcullis: request key=value …`
    case text
    /// `{"ts":…,"level":…,"label":…,"msg":…, metadata…}`
    case json
}

/// The effective settings of a Portcullis process (docs/CONFIGURATION.md).
public struct PortcullisConfiguration: Sendable, Equatable {
    /// Address to listen on.
    public var host: String = "127.0.0.1"
    /// Port to listen on (0 picks a free one).
    public var port: Int = 8080
    /// Where the data lives: a SQLite file (the default) or a PostgreSQL database (`PORTCULLIS_DB`).
    public var database: DatabaseLocation = .sqlite(path: "./data/portcullis.db")
    /// Connections each process keeps to the database (`PORTCULLIS_DB_POOL_SIZE`, PostgreSQL).
    public var databasePoolSize: Int = 10
    /// `PORTCULLIS_DB_AUTO_MIGRATE` as set; nil (unset) leaves the choice to the backend (`autoMigrate`).
    public var databaseAutoMigrate: Bool? = nil
    /// Directory of signing keys and the secrets key.
    public var keysDirectory: String = "./Keys"
    /// Directory of policy files.
    public var policiesDirectory: String = "./Policies"
    /// `iss` of every token; also the default audience.
    public var issuer: String = "http://127.0.0.1:8080"
    /// Access-token lifetime in seconds.
    public var accessTokenTTL: TimeInterval = 15 * 60
    /// Refresh-token lifetime in seconds.
    public var refreshTokenTTL: TimeInterval = 30 * 24 * 3600
    /// Seconds during which a used refresh token may be retried without revoking its family (0 = off).
    public var refreshGraceWindow: TimeInterval = 0
    /// Argon2id cost for new password hashes.
    public var argon2: Argon2Parameters = .owaspDefault
    /// Lets `serve` start with Argon2id settings below OWASP's floor (tests and benchmarks only).
    public var allowWeakArgon2: Bool = false
    /// Algorithm of the first signing key.
    public var signingAlgorithm: JWSAlgorithm = .es256
    /// Consecutive failures after which an account is locked.
    public var accountFailureLimit: Int = 10
    /// Failures per minute after which a client address (an IPv6 client's /64) is locked.
    public var addressFailureLimit: Int = 100
    /// Peers whose `X-Forwarded-For` / `Forwarded` header names the client (`PORTCULLIS_TRUSTED_PROXIES`);
    /// empty: the headers are ignored and the client is the TCP peer.
    public var trustedProxies: [IPNetwork] = []
    /// Decisions kept in the decision log for `policy diff` (0 turns the log off).
    public var decisionLogSize: Int = 10_000
    /// Seconds between the janitor's sweeps of expired rows (`Janitor`).
    public var janitorInterval: TimeInterval = 300
    /// Issuer name shown by authenticator apps (`otpauth://totp/NAME:user`).
    public var totpIssuer: String = "Portcullis"
    /// The WebAuthn relying-party id; nil: the issuer's host (`webAuthnRelyingPartyID`).
    public var webAuthnRelyingPartyIDOverride: String?
    /// Origins allowed in WebAuthn ceremonies besides the issuer's own.
    public var webAuthnExtraOrigins: [String] = []
    /// Requests handled at once; more are shed with 503 (load safety).
    public var maxConcurrentRequests: Int = 512
    /// Seconds a request may run before it is answered 503 and its handler cancelled.
    public var requestTimeout: TimeInterval = 30
    /// Seconds a connection may stay silent (idle, or a client trickling a request) before it is closed.
    public var idleTimeout: TimeInterval = 30
    /// Seconds a PostgreSQL replica may reuse a "live" answer of the token check, flushed by every
    /// revocation's notification and by the replica's own revocations (0: off, every check reads
    /// the database). docs/DATABASES.md.
    public var revocationCacheSeconds: Int = 5
    /// Key-encryption keys (`PORTCULLIS_SECRETS_KEY`: comma-separated 32-byte keys, base64url or
    /// base64; the first seals). Unset: `Keys/secrets.key`. Never printed.
    public var secretsKey: String?
    /// Seconds between `keys rotate` and the new key signing, when keys are kept in PostgreSQL:
    /// published and verifying everywhere first. More than `StoredKeyRing.pollInterval` plus clock skew.
    public var keyActivationDelay: TimeInterval = 30
    /// Verified access tokens remembered so a repeat skips the signature check (0 turns the cache off).
    public var tokenCacheSize: Int = 10_000
    /// Threads doing network I/O and answering the hot routes (0: one per core). With the hot path
    /// the event loops do the token checks, so one per core: on two cores, two loops served 2.1×
    /// the 1,000-token verify mix of one (24,695 against 11,775 req/s).
    public var eventLoopThreads: Int = 0
    /// Log line format.
    public var logFormat: LogFormat = .text
    /// Lowest level logged; `notice` drops the one-line-per-request log.
    public var logLevel: Logger.Level = .info

    /// The key-encryption keys: `PORTCULLIS_SECRETS_KEY`, else `Keys/secrets.key` (made if missing).
    public func keyEncryptionKeys() throws -> KeyEncryptionKeys {
        if let secretsKey { return try KeyEncryptionKeys(parsing: secretsKey) }
        let directory = KeyDirectory(path: keysDirectory)
        try directory.prepareSecretsKey()
        return try KeyEncryptionKeys([try directory.secretsKey()])
    }

    /// `eventLoopThreads` with 0 resolved for a machine of `cores` cores.
    public func resolvedEventLoopThreads(cores: Int) -> Int {
        eventLoopThreads > 0 ? eventLoopThreads : max(1, cores)
    }

    /// Where each explicitly set value came from, by environment name.
    public internal(set) var sources: [String: ConfigurationSource] = [:]

    /// The defaults of docs/CONFIGURATION.md.
    public init() {}

    /// The audience of access tokens issued by the REST API.
    public var audience: String { issuer }

    /// The WebAuthn relying-party id passkeys are bound to: the override, else the issuer's host.
    public var webAuthnRelyingPartyID: String {
        webAuthnRelyingPartyIDOverride ?? URL(string: issuer)?.host ?? "localhost"
    }

    /// The issuer's origin (`scheme://host[:port]`), the first origin WebAuthn ceremonies accept.
    public var issuerOrigin: String {
        guard let url = URL(string: issuer), let scheme = url.scheme, let host = url.host else { return issuer }
        return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }

    /// Every origin a WebAuthn ceremony may come from: the issuer's and `webAuthnExtraOrigins`.
    public var webAuthnOrigins: [String] { [issuerOrigin] + webAuthnExtraOrigins }

    /// Whether `serve` migrates a database whose schema is behind: `databaseAutoMigrate` when set,
    /// else yes for SQLite (so `make run` stays one command) and no for PostgreSQL (run
    /// `portcullis migrate` once, not from every replica).
    public var autoMigrate: Bool {
        if let databaseAutoMigrate { return databaseAutoMigrate }
        switch database {
        case .sqlite: return true
        case .postgres: return false
        }
    }

    /// The SQLite file of `database`; for a PostgreSQL location an `invalidRequest` saying this
    /// code path opens only SQLite.
    public func sqlitePath() throws(PortcullisError) -> String {
        switch database {
        case .sqlite(let path): return path
        case .postgres(let location):
            throw .invalidRequest("PORTCULLIS_DB is a PostgreSQL URL (\(location.redacted)), but this command opens only SQLite databases so far")
        }
    }

    /// Compatibility for code written when the database was always a SQLite file: reads the
    /// SQLite path (for a PostgreSQL location, its redacted URL, for display only — code that
    /// opens a SQLite store calls `sqlitePath()`, which refuses PostgreSQL); setting it selects
    /// that SQLite file.
    public var databasePath: String {
        get { database.description }
        set { database = .sqlite(path: newValue) }
    }
}

/// Where a setting's value came from (flags > environment > file > defaults).
public enum ConfigurationSource: String, Sendable, Codable {
    /// Built in.
    case defaults
    /// The configuration file.
    case file
    /// A `PORTCULLIS_*` environment variable.
    case environment
    /// A command-line flag.
    case flag
}
