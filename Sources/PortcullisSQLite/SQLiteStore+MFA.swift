public import Foundation
import GRDB
public import PortcullisCore
import PortcullisCrypto

extension SQLiteStore {
    public func saveTOTPEnrolment(_ credential: TOTPCredential) async throws {
        try await pool.write { db in
            if let confirmed = try Double?.fetchOne(db, sql: "SELECT confirmed_at FROM totp_credentials WHERE user_id = ?", arguments: [credential.userID]), confirmed != nil {
                throw PortcullisError.conflict("TOTP is already active; remove it first")
            }
            // Pending: never confirmed, no step used, whatever the caller's value says.
            var row = TOTPCredentialRecord(credential)
            row.confirmedAt = nil
            row.lastUsedStep = nil
            try row.insert(db, onConflict: .replace)
        }
    }

    public func totpCredential(userID: String) async throws -> TOTPCredential? {
        try await pool.read { db in
            try TOTPCredentialRecord.fetchOne(db, key: userID)?.credential
        }
    }

    public func confirmTOTP(userID: String, at: Date, step: Int64, recoveryCodeHashes: [String]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE totp_credentials SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL",
                arguments: [at.timeIntervalSince1970, step, userID])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "DELETE FROM recovery_codes WHERE user_id = ?", arguments: [userID])
            for hash in recoveryCodeHashes {
                try db.execute(sql: "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", arguments: [userID, hash])
            }
            return true
        }
    }

    public func deleteTOTP(userID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM recovery_codes WHERE user_id = ?", arguments: [userID])
            try db.execute(sql: "DELETE FROM mfa_challenges WHERE user_id = ?", arguments: [userID])
            try db.execute(sql: "DELETE FROM totp_credentials WHERE user_id = ?", arguments: [userID])
            return db.changesCount == 1
        }
    }

    public func advanceTOTPStep(userID: String, to step: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE totp_credentials SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)",
                arguments: [step, userID, step])
            return db.changesCount == 1
        }
    }

    public func consumeRecoveryCode(userID: String, codeHash: String, at: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
                arguments: [at.timeIntervalSince1970, userID, codeHash])
            return db.changesCount == 1
        }
    }

    public func remainingRecoveryCodes(userID: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", arguments: [userID]) ?? 0
        }
    }

    public func createMFAChallenge(_ challenge: MFAChallenge) async throws {
        try await pool.write { db in
            var row = MFAChallengeRecord(challenge)
            row.failures = 0
            try row.insert(db)
        }
    }

    public func mfaChallenge(tokenHash: String) async throws -> MFAChallenge? {
        try await pool.read { db in
            try MFAChallengeRecord.fetchOne(db, key: tokenHash)?.challenge
        }
    }

    public func recordMFAChallengeFailure(tokenHash: String, maxFailures: Int) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = ?", arguments: [tokenHash])
            let failures = try Int.fetchOne(db, sql: "SELECT failures FROM mfa_challenges WHERE token_hash = ?", arguments: [tokenHash]) ?? maxFailures
            if failures >= maxFailures {
                try db.execute(sql: "DELETE FROM mfa_challenges WHERE token_hash = ?", arguments: [tokenHash])
            }
            return failures
        }
    }

    public func consumeMFAChallenge(tokenHash: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM mfa_challenges WHERE token_hash = ?", arguments: [tokenHash])
            return db.changesCount == 1
        }
    }
}
