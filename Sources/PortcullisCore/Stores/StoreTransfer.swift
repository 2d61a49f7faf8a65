/// One value of a table cell, as both backends can hold it.
public enum CellValue: Sendable, Equatable {
    /// SQL NULL.
    case null
    /// An integer (also SQLite's booleans).
    case integer(Int64)
    /// A floating-point number (times are seconds since 1970).
    case real(Double)
    /// Text (JSON lists included).
    case text(String)
    /// Bytes (sealed TOTP secrets, passkey credential ids and keys).
    case blob([UInt8])
}

/// Every row of one table, columns by name: what `portcullis migrate import` carries from one
/// backend to another, untouched (hashes, ciphertexts and the audit chain as stored).
public struct TableDump: Sendable, Equatable {
    /// The table.
    public var table: String
    /// Column names, in the order of each row's cells.
    public var columns: [String]
    /// The rows, oldest first where the table has an order.
    public var rows: [[CellValue]]

    /// A dump of `table`.
    public init(table: String, columns: [String], rows: [[CellValue]]) {
        self.table = table
        self.columns = columns
        self.rows = rows
    }

    /// The tables of a deployment, parents before children (foreign keys hold at every insert).
    /// `address_throttles` is left out on purpose: its counters last minutes, and the limit simply
    /// starts afresh on the new backend.
    public static let tableOrder = [
        "users", "role_grants", "oauth_clients", "token_families", "refresh_tokens", "revoked_access_tokens", "account_lockouts",
        "audit_events", "totp_credentials", "recovery_codes", "mfa_challenges", "decision_log", "oauth_codes", "oauth_consents",
        "browser_sessions", "webauthn_user_handles", "webauthn_credentials", "webauthn_challenges",
    ]
}

/// A store whose whole content can be read out table by table (the source of an import).
public protocol DumpableStore: Sendable {
    /// Every table of `TableDump.tableOrder`, in that order.
    func dumpTables() async throws -> [TableDump]
}

/// A store that can take a whole deployment in (the target of an import).
public protocol LoadableStore: Sendable {
    /// In one transaction, inserts every row of `tables` into an empty store; throws
    /// `PortcullisError.conflict` when the store already holds users, clients or audit events.
    func loadTables(_ tables: [TableDump]) async throws
}
