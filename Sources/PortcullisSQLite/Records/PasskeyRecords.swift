import Foundation
import GRDB
import PortcullisCore

/// A row of `webauthn_credentials`.
struct PasskeyRecord: SQLiteRecord {
    static let databaseTableName = "webauthn_credentials"

    var id: String
    var userID: String
    var credentialID: Data
    var publicKey: Data
    var algorithm: Int
    /// A `UInt32` in a 64-bit column.
    var signCount: Int64
    var transports: [String]
    var backupEligible: Bool
    var backedUp: Bool
    var name: String
    var createdAt: Date
    var lastUsedAt: Date?
    var flaggedAt: Date?
    var aaguid: Data
    var attestationFormat: String

    enum CodingKeys: String, CodingKey {
        case id, algorithm, transports, name, aaguid
        case userID = "user_id", credentialID = "credential_id", publicKey = "public_key", signCount = "sign_count"
        case backupEligible = "backup_eligible", backedUp = "backed_up", createdAt = "created_at", lastUsedAt = "last_used_at"
        case flaggedAt = "flagged_at", attestationFormat = "attestation_format"
    }

    init(_ passkey: Passkey) {
        id = passkey.id
        userID = passkey.userID
        credentialID = Data(passkey.credentialID)
        publicKey = Data(passkey.publicKey)
        algorithm = passkey.algorithm
        signCount = Int64(passkey.signCount)
        transports = passkey.transports
        backupEligible = passkey.backupEligible
        backedUp = passkey.backedUp
        name = passkey.name
        createdAt = passkey.createdAt
        lastUsedAt = passkey.lastUsedAt
        flaggedAt = passkey.flaggedAt
        aaguid = Data(passkey.aaguid)
        attestationFormat = passkey.attestationFormat
    }

    var passkey: Passkey {
        Passkey(id: id, userID: userID, credentialID: [UInt8](credentialID), publicKey: [UInt8](publicKey), algorithm: algorithm,
                signCount: UInt32(clamping: signCount), transports: transports, backupEligible: backupEligible, backedUp: backedUp,
                name: name, createdAt: createdAt, lastUsedAt: lastUsedAt, flaggedAt: flaggedAt, aaguid: [UInt8](aaguid),
                attestationFormat: attestationFormat)
    }
}

/// A row of `webauthn_challenges`.
struct WebAuthnChallengeRecord: SQLiteRecord {
    static let databaseTableName = "webauthn_challenges"

    var key: String
    var purpose: String
    var userID: String?
    var challenge: Data
    var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case key, purpose, challenge
        case userID = "user_id", expiresAt = "expires_at"
    }

    init(_ challenge: WebAuthnChallenge) {
        key = challenge.key
        purpose = challenge.purpose
        userID = challenge.userID
        self.challenge = Data(challenge.challenge)
        expiresAt = challenge.expiresAt
    }

    var webAuthnChallenge: WebAuthnChallenge {
        WebAuthnChallenge(key: key, purpose: purpose, userID: userID, challenge: [UInt8](challenge), expiresAt: expiresAt)
    }
}
