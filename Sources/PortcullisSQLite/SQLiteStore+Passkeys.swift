public import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore {
    public func addPasskey(_ passkey: Passkey) async throws {
        do {
            try await pool.write { db in try PasskeyRecord(passkey).insert(db) }
        } catch let error as DatabaseError where Self.isUniquenessViolation(error) {
            throw PortcullisError.passkeyAlreadyRegistered
        }
    }

    public func passkeys(userID: String) async throws -> [Passkey] {
        try await pool.read { db in
            try PasskeyRecord.fetchAll(db, sql: "SELECT * FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id", arguments: [userID])
                .map(\.passkey)
        }
    }

    public func passkey(credentialID: [UInt8]) async throws -> Passkey? {
        try await pool.read { db in
            try PasskeyRecord.fetchOne(db, sql: "SELECT * FROM webauthn_credentials WHERE credential_id = ?", arguments: [Data(credentialID)])?.passkey
        }
    }

    public func passkeyCount(userID: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = ?", arguments: [userID]) ?? 0
        }
    }

    public func renamePasskey(id: String, userID: String, name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?", arguments: [name, id, userID])
            return db.changesCount == 1
        }
    }

    public func deletePasskey(id: String, userID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?", arguments: [id, userID])
            return db.changesCount == 1
        }
    }

    public func advancePasskeySignCount(id: String, from: UInt32, to: UInt32, at: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE webauthn_credentials SET sign_count = ?, last_used_at = ? WHERE id = ? AND sign_count = ? AND flagged_at IS NULL",
                arguments: [Int64(to), at.timeIntervalSince1970, id, Int64(from)])
            return db.changesCount == 1
        }
    }

    public func flagPasskey(id: String, at: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE webauthn_credentials SET flagged_at = ? WHERE id = ? AND flagged_at IS NULL",
                           arguments: [at.timeIntervalSince1970, id])
            return db.changesCount == 1
        }
    }

    public func webAuthnUserHandle(userID: String) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT handle FROM webauthn_user_handles WHERE user_id = ?", arguments: [userID]).map { [UInt8]($0) }
        }
    }

    public func ensureWebAuthnUserHandle(userID: String, candidate: [UInt8]) async throws -> [UInt8] {
        do {
            return try await pool.write { db in
                try db.execute(sql: "INSERT INTO webauthn_user_handles (user_id, handle) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
                               arguments: [userID, Data(candidate)])
                guard let stored = try Data.fetchOne(db, sql: "SELECT handle FROM webauthn_user_handles WHERE user_id = ?", arguments: [userID]) else {
                    throw PortcullisError.notFound("no user \(userID)")
                }
                return [UInt8](stored)
            }
        } catch let error as DatabaseError where Self.isUniquenessViolation(error) {
            throw PortcullisError.webAuthnUserHandleTaken
        }
    }

    public func userID(webAuthnUserHandle: [UInt8]) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT user_id FROM webauthn_user_handles WHERE handle = ?", arguments: [Data(webAuthnUserHandle)])
        }
    }

    public func saveWebAuthnChallenge(_ challenge: WebAuthnChallenge) async throws {
        try await pool.write { db in try WebAuthnChallengeRecord(challenge).insert(db, onConflict: .replace) }
    }

    public func consumeWebAuthnChallenge(key: String) async throws -> WebAuthnChallenge? {
        // One write transaction: of concurrent callers (any process), one reads the row and deletes it.
        try await pool.write { db in
            guard let row = try WebAuthnChallengeRecord.fetchOne(db, key: key) else { return nil }
            try db.execute(sql: "DELETE FROM webauthn_challenges WHERE key = ?", arguments: [key])
            return row.webAuthnChallenge
        }
    }

    static func isUniquenessViolation(_ error: DatabaseError) -> Bool {
        error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
    }
}
