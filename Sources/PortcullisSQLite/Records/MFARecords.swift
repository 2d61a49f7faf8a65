import Foundation
import GRDB
import PortcullisCore
import PortcullisCrypto

/// A row of `totp_credentials`.
struct TOTPCredentialRecord: SQLiteRecord {
    static let databaseTableName = "totp_credentials"

    var userID: String
    var sealedSecret: Data
    var algorithm: String
    var digits: Int
    var period: Int
    var createdAt: Date
    var confirmedAt: Date?
    var lastUsedStep: Int64?

    enum CodingKeys: String, CodingKey {
        case algorithm, digits, period
        case userID = "user_id", sealedSecret = "sealed_secret", createdAt = "created_at", confirmedAt = "confirmed_at", lastUsedStep = "last_step"
    }

    init(_ credential: TOTPCredential) {
        userID = credential.userID
        sealedSecret = Data(credential.sealedSecret)
        algorithm = credential.parameters.algorithm.rawValue
        digits = credential.parameters.digits
        period = credential.parameters.period
        createdAt = credential.createdAt
        confirmedAt = credential.confirmedAt
        lastUsedStep = credential.lastUsedStep
    }

    var credential: TOTPCredential {
        TOTPCredential(userID: userID, sealedSecret: [UInt8](sealedSecret),
                       parameters: TOTP(algorithm: HashAlgorithm(rawValue: algorithm) ?? .sha1, digits: digits, period: period),
                       createdAt: createdAt, confirmedAt: confirmedAt, lastUsedStep: lastUsedStep)
    }
}

/// A row of `mfa_challenges`.
struct MFAChallengeRecord: SQLiteRecord {
    static let databaseTableName = "mfa_challenges"

    var tokenHash: String
    var userID: String
    var expiresAt: Date
    var failures: Int

    enum CodingKeys: String, CodingKey {
        case failures
        case tokenHash = "token_hash", userID = "user_id", expiresAt = "expires_at"
    }

    init(_ challenge: MFAChallenge) {
        tokenHash = challenge.tokenHash
        userID = challenge.userID
        expiresAt = challenge.expiresAt
        failures = challenge.failures
    }

    var challenge: MFAChallenge {
        MFAChallenge(tokenHash: tokenHash, userID: userID, expiresAt: expiresAt, failures: failures)
    }
}

/// A row of `decision_log`; the id is assigned on insert.
struct DecisionLogRecord: SQLiteRecord {
    static let databaseTableName = "decision_log"

    var at: Date
    var subject: String
    /// Newline-separated (role names have no newline).
    var grantedRoles: String
    var action: String
    var resource: String
    var allowed: Bool
    var rule: String?
    var policyVersion: String

    enum CodingKeys: String, CodingKey {
        case at, subject, action, resource, allowed, rule
        case grantedRoles = "granted_roles", policyVersion = "policy_version"
    }

    init(_ record: DecisionRecord) {
        at = record.at
        subject = record.subject
        grantedRoles = Self.joined(record.grantedRoles)
        action = record.action
        resource = record.resource
        allowed = record.allowed
        rule = record.rule
        policyVersion = record.policyVersion
    }

    /// Roles as stored: newline-separated.
    static func joined(_ roles: [String]) -> String {
        roles.joined(separator: "\n")
    }

    var record: DecisionRecord {
        DecisionRecord(at: at, subject: subject, grantedRoles: grantedRoles.isEmpty ? [] : grantedRoles.components(separatedBy: "\n"),
                       action: action, resource: resource, allowed: allowed, rule: rule, policyVersion: policyVersion)
    }
}
