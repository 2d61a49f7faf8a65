public import Foundation
public import PortcullisCore
import PortcullisCrypto
import PostgresNIO
import Logging

extension PostgresStore: SigningKeyStore {
    /// The channel every key change is announced on, inside the changing transaction.
    static let keyChannel = "portcullis_keys"

    public func signingKeys() async throws -> [StoredSigningKey] {
        try await rows("SELECT * FROM signing_keys ORDER BY created_at, kid").map { row in
            guard let alg = JWSAlgorithm(rawValue: try row.value("alg", as: String.self)) else {
                throw PortcullisError.internalFailure("signing key \(try row.value("kid", as: String.self)) has an unknown algorithm")
            }
            return StoredSigningKey(
                kid: try row.value("kid"), alg: alg, sealedPrivateKey: [UInt8](try row.value("sealed_private_key", as: Data.self)),
                sealedWith: try row.value("sealed_with"), signs: try row.value("signs"), createdAt: try row.date("created_at"),
                activatesAt: try row.date("activates_at"), retiredAt: try row.optionalDate("retired_at"))
        }
    }

    public func addSigningKeys(_ keys: [StoredSigningKey], onlyIfEmpty: Bool) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            if onlyIfEmpty {
                // Orders replicas creating the first keys at once: the second finds the first's.
                try await connection.execute("SELECT pg_advisory_xact_lock(\(Self.keyLockKey))", logger: logger)
                guard try await connection.rows("SELECT 1 FROM signing_keys LIMIT 1", logger: logger).isEmpty else { return false }
            }
            for key in keys {
                try await connection.execute("""
                    INSERT INTO signing_keys (kid, alg, sealed_private_key, sealed_with, signs, created_at, activates_at, retired_at)
                    VALUES (\(key.kid), \(key.alg.rawValue), \(Data(key.sealedPrivateKey)), \(key.sealedWith), \(key.signs),
                            \(key.createdAt.timeIntervalSince1970), \(key.activatesAt.timeIntervalSince1970),
                            \(key.retiredAt?.timeIntervalSince1970))
                    """, logger: logger)
            }
            try await Self.announceKeyChange(connection, logger: logger)
            return true
        }
    }

    public func retireSigningKey(kid: String, at: Date) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            let retired = try await !connection.rows("""
                UPDATE signing_keys SET retired_at = \(at.timeIntervalSince1970) WHERE kid = \(kid) AND retired_at IS NULL RETURNING kid
                """, logger: logger).isEmpty
            if retired { try await Self.announceKeyChange(connection, logger: logger) }
            return retired
        }
    }

    public func resealSigningKey(kid: String, expected: [UInt8], box: [UInt8], sealedWith: String) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            try await !connection.rows("""
                UPDATE signing_keys SET sealed_private_key = \(Data(box)), sealed_with = \(sealedWith)
                WHERE kid = \(kid) AND sealed_private_key = \(Data(expected)) RETURNING kid
                """, logger: logger).isEmpty
        }
    }

    public func watchSigningKeys(_ onChange: @escaping @Sendable () async -> Void) async throws {
        // One pooled connection held for as long as the listener runs (outside the lease
        // deadline: it is meant to stay). Changes made before `LISTEN` took effect are caught by
        // the reload the caller does when listening (re)starts.
        try await client.withConnection { connection in
            let notifications = try await connection.listen(Self.keyChannel)
            await onChange()
            for try await _ in notifications { await onChange() }
        }
        throw PortcullisError.unavailable("the signing-key change listener ended")
    }

    /// Key of the advisory lock taken while creating the first keys.
    static let keyLockKey: Int64 = 0x706f_7274_6b65_7973  // "portkeys"

    static func announceKeyChange(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute("SELECT pg_notify(\(keyChannel), 'changed')", logger: logger)
    }
}
