public import Foundation
public import PortcullisCore
import PostgresNIO

extension PostgresStore: PasskeyStore {
    public func addPasskey(_ passkey: Passkey) async throws {
        do {
            try await execute("""
                INSERT INTO webauthn_credentials (id, user_id, credential_id, public_key, algorithm, sign_count, transports, backup_eligible,
                                                  backed_up, name, created_at, last_used_at, flagged_at, aaguid, attestation_format)
                VALUES (\(passkey.id), \(passkey.userID), \(Data(passkey.credentialID)), \(Data(passkey.publicKey)), \(passkey.algorithm),
                        \(Int64(passkey.signCount)), \(jsonList(passkey.transports)), \(passkey.backupEligible), \(passkey.backedUp),
                        \(passkey.name), \(passkey.createdAt.timeIntervalSince1970), \(passkey.lastUsedAt?.timeIntervalSince1970),
                        \(passkey.flaggedAt?.timeIntervalSince1970), \(Data(passkey.aaguid)), \(passkey.attestationFormat))
                """)
        } catch where Self.isUniqueViolation(error) {
            throw PortcullisError.passkeyAlreadyRegistered
        }
    }

    public func passkeys(userID: String) async throws -> [Passkey] {
        try await rows("SELECT * FROM webauthn_credentials WHERE user_id = \(userID) ORDER BY created_at, id").map(Self.passkey)
    }

    public func passkey(credentialID: [UInt8]) async throws -> Passkey? {
        try await row("SELECT * FROM webauthn_credentials WHERE credential_id = \(Data(credentialID))").map(Self.passkey)
    }

    public func passkeyCount(userID: String) async throws -> Int {
        try await row("SELECT count(*)::bigint AS n FROM webauthn_credentials WHERE user_id = \(userID)")?.value("n", as: Int.self) ?? 0
    }

    public func renamePasskey(id: String, userID: String, name: String) async throws -> Bool {
        try await !rows("UPDATE webauthn_credentials SET name = \(name) WHERE id = \(id) AND user_id = \(userID) RETURNING id").isEmpty
    }

    public func deletePasskey(id: String, userID: String) async throws -> Bool {
        try await !rows("DELETE FROM webauthn_credentials WHERE id = \(id) AND user_id = \(userID) RETURNING id").isEmpty
    }

    public func advancePasskeySignCount(id: String, from: UInt32, to: UInt32, at: Date) async throws -> Bool {
        // Compare-and-set in one statement: a concurrent update of the row makes PostgreSQL re-check
        // the WHERE on the committed version, where the count is no longer `from`.
        try await !rows("""
            UPDATE webauthn_credentials SET sign_count = \(Int64(to)), last_used_at = \(at.timeIntervalSince1970)
            WHERE id = \(id) AND sign_count = \(Int64(from)) AND flagged_at IS NULL
            RETURNING id
            """).isEmpty
    }

    public func flagPasskey(id: String, at: Date) async throws -> Bool {
        try await !rows("UPDATE webauthn_credentials SET flagged_at = \(at.timeIntervalSince1970) WHERE id = \(id) AND flagged_at IS NULL RETURNING id").isEmpty
    }

    public func webAuthnUserHandle(userID: String) async throws -> [UInt8]? {
        try await row("SELECT handle FROM webauthn_user_handles WHERE user_id = \(userID)").map { [UInt8](try $0.value("handle", as: Data.self)) }
    }

    public func ensureWebAuthnUserHandle(userID: String, candidate: [UInt8]) async throws -> [UInt8] {
        // The insert waits for a concurrent one of the same user to end; it then inserts nothing,
        // and the read (a new statement, so a new snapshot) sees the winner's handle.
        do {
            if let inserted = try await row("""
                INSERT INTO webauthn_user_handles (user_id, handle) VALUES (\(userID), \(Data(candidate)))
                ON CONFLICT (user_id) DO NOTHING RETURNING handle
                """) {
                return [UInt8](try inserted.value("handle", as: Data.self))
            }
        } catch where Self.isUniqueViolation(error) {
            throw PortcullisError.webAuthnUserHandleTaken
        }
        guard let stored = try await webAuthnUserHandle(userID: userID) else { throw PortcullisError.notFound("no user \(userID)") }
        return stored
    }

    public func userID(webAuthnUserHandle: [UInt8]) async throws -> String? {
        try await row("SELECT user_id FROM webauthn_user_handles WHERE handle = \(Data(webAuthnUserHandle))")?.value("user_id", as: String.self)
    }

    public func saveWebAuthnChallenge(_ challenge: WebAuthnChallenge) async throws {
        try await execute("""
            INSERT INTO webauthn_challenges (key, purpose, user_id, challenge, expires_at)
            VALUES (\(challenge.key), \(challenge.purpose), \(challenge.userID), \(Data(challenge.challenge)), \(challenge.expiresAt.timeIntervalSince1970))
            ON CONFLICT (key) DO UPDATE SET purpose = EXCLUDED.purpose, user_id = EXCLUDED.user_id, challenge = EXCLUDED.challenge,
                   expires_at = EXCLUDED.expires_at
            """)
    }

    public func consumeWebAuthnChallenge(key: String) async throws -> WebAuthnChallenge? {
        // Of concurrent deletes of one row, one returns it; the others wait, then find it gone.
        try await row("DELETE FROM webauthn_challenges WHERE key = \(key) RETURNING *").map { row in
            WebAuthnChallenge(key: try row.value("key"), purpose: try row.value("purpose"), userID: try row.value("user_id"),
                              challenge: [UInt8](try row.value("challenge", as: Data.self)), expiresAt: try row.date("expires_at"))
        }
    }

    static func passkey(_ row: PostgresRandomAccessRow) throws -> Passkey {
        Passkey(id: try row.value("id"), userID: try row.value("user_id"), credentialID: [UInt8](try row.value("credential_id", as: Data.self)),
                publicKey: [UInt8](try row.value("public_key", as: Data.self)), algorithm: try row.value("algorithm"),
                signCount: UInt32(clamping: try row.value("sign_count", as: Int64.self)), transports: try row.stringList("transports"),
                backupEligible: try row.value("backup_eligible"), backedUp: try row.value("backed_up"), name: try row.value("name"),
                createdAt: try row.date("created_at"), lastUsedAt: try row.optionalDate("last_used_at"), flaggedAt: try row.optionalDate("flagged_at"),
                aaguid: [UInt8](try row.value("aaguid", as: Data.self)), attestationFormat: try row.value("attestation_format"))
    }
}
