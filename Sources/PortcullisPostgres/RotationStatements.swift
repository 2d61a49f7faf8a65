import Foundation
import PortcullisCore
import PostgresNIO
import Logging

/// The statements of a refresh-token rotation, prepared once per connection (rotation runs at
/// every refresh, so it is a hot path like the liveness read).
enum RotationStatements {
    /// The family of a refresh token.
    struct FamilyOfToken: KeyedStatement {
        static let sql = "SELECT family_id FROM refresh_tokens WHERE token_hash = $1"
        typealias Row = String
        let key: String

        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// Lock 1: the family row, `FOR UPDATE`.
    struct LockFamily: KeyedStatement {
        static let sql = "SELECT id, user_id, client_id, scope, resources, created_at, revoked_at, revoked_reason FROM token_families WHERE id = $1 FOR UPDATE"
        typealias Row = TokenFamily
        let key: String

        func decodeRow(_ row: PostgresRow) throws -> TokenFamily { try PostgresStore.family(row.makeRandomAccess()) }
    }

    /// Lock 2: the token row, `FOR UPDATE`: expiry, use and successor.
    struct LockToken: KeyedStatement {
        static let sql = "SELECT expires_at, used_at, replaced_by FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE"
        typealias Row = (expiresAt: Double, usedAt: Double?, replacedBy: String?)
        let key: String

        func decodeRow(_ row: PostgresRow) throws -> Row {
            let (expiresAt, usedAt, replacedBy) = try row.decode((Double, Double?, String?).self)
            return (expiresAt, usedAt, replacedBy)
        }
    }

    /// The compare-and-set: only the request that flips `used_at` from NULL gets a row back.
    struct ConsumeToken: PostgresPreparedStatement {
        static let sql = """
            UPDATE refresh_tokens SET used_at = $1, replaced_by = $2 WHERE token_hash = $3 AND used_at IS NULL RETURNING token_hash
            """
        static let bindingDataTypes: [PostgresDataType] = [.float8, .text, .text]
        typealias Row = String
        let at: Double
        let successorHash: String
        let tokenHash: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(at)
            bindings.append(successorHash)
            bindings.append(tokenHash)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// The successor, unused.
    struct InsertToken: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at, used_at, replaced_by)
            VALUES ($1, $2, $3, $4, NULL, NULL)
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .text, .float8, .float8]
        typealias Row = Void
        let record: RefreshTokenRecord
        let familyID: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(record.tokenHash)
            bindings.append(familyID)
            bindings.append(record.issuedAt.timeIntervalSince1970)
            bindings.append(record.expiresAt.timeIntervalSince1970)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }
}

/// A prepared statement looked up by one text key (`$1`): its bindings are that key.
protocol KeyedStatement: PostgresPreparedStatement {
    /// The value bound to `$1`.
    var key: String { get }
}

extension KeyedStatement {
    static var bindingDataTypes: [PostgresDataType] { [.text] }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(key)
        return bindings
    }
}

extension PostgresConnection {
    /// Every row of a prepared statement on this connection (inside a transaction).
    func all<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}
