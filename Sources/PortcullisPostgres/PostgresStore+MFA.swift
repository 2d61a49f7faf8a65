public import Foundation
public import PortcullisCore
import PortcullisCrypto
import PostgresNIO

extension PostgresStore: MFAStore {
    public func saveTOTPEnrolment(_ credential: TOTPCredential) async throws {
        // One conditional upsert: a pending credential is replaced, an active one is left alone
        // (no row returned). Pending means never confirmed and no step used, whatever the caller says.
        let stored = try await rows("""
            INSERT INTO totp_credentials (user_id, sealed_secret, algorithm, digits, period, created_at, confirmed_at, last_step)
            VALUES (\(credential.userID), \(Data(credential.sealedSecret)), \(credential.parameters.algorithm.rawValue),
                    \(credential.parameters.digits), \(credential.parameters.period), \(credential.createdAt.timeIntervalSince1970), NULL, NULL)
            ON CONFLICT (user_id) DO UPDATE SET sealed_secret = EXCLUDED.sealed_secret, algorithm = EXCLUDED.algorithm,
                   digits = EXCLUDED.digits, period = EXCLUDED.period, created_at = EXCLUDED.created_at, confirmed_at = NULL, last_step = NULL
            WHERE totp_credentials.confirmed_at IS NULL
            RETURNING user_id
            """)
        guard !stored.isEmpty else { throw PortcullisError.conflict("TOTP is already active; remove it first") }
    }

    public func totpCredential(userID: String) async throws -> TOTPCredential? {
        try await row("SELECT * FROM totp_credentials WHERE user_id = \(userID)").map { row in
            TOTPCredential(userID: try row.value("user_id"), sealedSecret: [UInt8](try row.value("sealed_secret", as: Data.self)),
                           parameters: TOTP(algorithm: HashAlgorithm(rawValue: try row.value("algorithm")) ?? .sha1,
                                            digits: try row.value("digits"), period: try row.value("period")),
                           createdAt: try row.date("created_at"), confirmedAt: try row.optionalDate("confirmed_at"),
                           lastUsedStep: try row.value("last_step"))
        }
    }

    public func confirmTOTP(userID: String, at: Date, step: Int64, recoveryCodeHashes: [String]) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            guard !(try await connection.rows("""
                UPDATE totp_credentials SET confirmed_at = \(at.timeIntervalSince1970), last_step = \(step)
                WHERE user_id = \(userID) AND confirmed_at IS NULL RETURNING user_id
                """, logger: logger)).isEmpty else { return false }
            try await connection.execute("DELETE FROM recovery_codes WHERE user_id = \(userID)", logger: logger)
            for hash in recoveryCodeHashes {
                try await connection.execute("INSERT INTO recovery_codes (user_id, code_hash) VALUES (\(userID), \(hash))", logger: logger)
            }
            return true
        }
    }

    public func deleteTOTP(userID: String) async throws -> Bool {
        let logger = self.logger
        return try await transaction { connection in
            try await connection.execute("DELETE FROM recovery_codes WHERE user_id = \(userID)", logger: logger)
            try await connection.execute("DELETE FROM mfa_challenges WHERE user_id = \(userID)", logger: logger)
            return !(try await connection.rows("DELETE FROM totp_credentials WHERE user_id = \(userID) RETURNING user_id", logger: logger)).isEmpty
        }
    }

    public func advanceTOTPStep(userID: String, to step: Int64) async throws -> Bool {
        // Compare-and-set: a concurrent update of the row makes PostgreSQL re-check the WHERE on
        // the committed version, so one step is accepted once.
        try await !rows("""
            UPDATE totp_credentials SET last_step = \(step)
            WHERE user_id = \(userID) AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < \(step))
            RETURNING user_id
            """).isEmpty
    }

    public func consumeRecoveryCode(userID: String, codeHash: String, at: Date) async throws -> Bool {
        try await !rows("""
            UPDATE recovery_codes SET used_at = \(at.timeIntervalSince1970)
            WHERE user_id = \(userID) AND code_hash = \(codeHash) AND used_at IS NULL RETURNING code_hash
            """).isEmpty
    }

    public func remainingRecoveryCodes(userID: String) async throws -> Int {
        try await row("SELECT count(*)::bigint AS remaining FROM recovery_codes WHERE user_id = \(userID) AND used_at IS NULL")?
            .value("remaining", as: Int.self) ?? 0
    }

    public func createMFAChallenge(_ challenge: MFAChallenge) async throws {
        try await execute("""
            INSERT INTO mfa_challenges (token_hash, user_id, expires_at, failures)
            VALUES (\(challenge.tokenHash), \(challenge.userID), \(challenge.expiresAt.timeIntervalSince1970), 0)
            """)
    }

    public func mfaChallenge(tokenHash: String) async throws -> MFAChallenge? {
        try await row("SELECT * FROM mfa_challenges WHERE token_hash = \(tokenHash)").map { row in
            MFAChallenge(tokenHash: try row.value("token_hash"), userID: try row.value("user_id"), expiresAt: try row.date("expires_at"),
                         failures: try row.value("failures"))
        }
    }

    public func recordMFAChallengeFailure(tokenHash: String, maxFailures: Int) async throws -> Int {
        let logger = self.logger
        return try await transaction { connection in
            // The increment returns the new count and holds the row lock until the delete.
            guard let failures = try await connection.rows(
                "UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = \(tokenHash) RETURNING failures", logger: logger
            ).first?.value("failures", as: Int.self) else { return maxFailures }
            if failures >= maxFailures {
                try await connection.execute("DELETE FROM mfa_challenges WHERE token_hash = \(tokenHash)", logger: logger)
            }
            return failures
        }
    }

    public func consumeMFAChallenge(tokenHash: String) async throws -> Bool {
        try await !rows("DELETE FROM mfa_challenges WHERE token_hash = \(tokenHash) RETURNING token_hash").isEmpty
    }
}
