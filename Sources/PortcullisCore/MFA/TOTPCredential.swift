public import Foundation
public import PortcullisCrypto

/// A user's TOTP second factor as stored: the secret only sealed (AES-256-GCM, user id as AAD).
public struct TOTPCredential: Sendable, Equatable {
    /// Owner.
    public var userID: String
    /// `nonce || ciphertext || tag` of the raw secret.
    public var sealedSecret: [UInt8]
    /// Code parameters.
    public var parameters: TOTP
    /// When enrolment started.
    public var createdAt: Date
    /// When a valid code confirmed it; nil while pending (a pending one never affects login).
    public var confirmedAt: Date?
    /// The last accepted time step: that step and earlier ones are refused (replay guard).
    public var lastUsedStep: Int64?

    /// Creates a credential value.
    public init(userID: String, sealedSecret: [UInt8], parameters: TOTP, createdAt: Date, confirmedAt: Date? = nil, lastUsedStep: Int64? = nil) {
        self.userID = userID
        self.sealedSecret = sealedSecret
        self.parameters = parameters
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.lastUsedStep = lastUsedStep
    }

    /// True once confirmed.
    public var isActive: Bool { confirmedAt != nil }
}

/// The pending second step of a login: the `mfa_token`, stored only as a hash.
public struct MFAChallenge: Sendable, Equatable {
    /// Hex SHA-256 of the `mfa_token`.
    public var tokenHash: String
    /// The user who passed the password step.
    public var userID: String
    /// Five minutes after the password step.
    public var expiresAt: Date
    /// Wrong codes so far; the challenge dies at five.
    public var failures: Int

    /// Creates a challenge value.
    public init(tokenHash: String, userID: String, expiresAt: Date, failures: Int = 0) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.expiresAt = expiresAt
        self.failures = failures
    }
}

/// TOTP credentials, one-time recovery codes and login challenges.
public protocol MFAStore: Sendable {
    /// Stores a pending enrolment, replacing a pending one; throws `conflict` when one is active.
    func saveTOTPEnrolment(_ credential: TOTPCredential) async throws
    /// The user's credential, pending or active.
    func totpCredential(userID: String) async throws -> TOTPCredential?
    /// Activates a pending credential, records `step` as used and stores the recovery-code hashes.
    func confirmTOTP(userID: String, at: Date, step: Int64, recoveryCodeHashes: [String]) async throws -> Bool
    /// Removes the credential and the recovery codes; false when there was none.
    func deleteTOTP(userID: String) async throws -> Bool
    /// Compare-and-set: records `step` only if it is later than the last used step.
    func advanceTOTPStep(userID: String, to step: Int64) async throws -> Bool
    /// Marks an unused recovery code used; false when unknown or used before.
    func consumeRecoveryCode(userID: String, codeHash: String, at: Date) async throws -> Bool
    /// Unused recovery codes left.
    func remainingRecoveryCodes(userID: String) async throws -> Int
    /// Stores a login challenge.
    func createMFAChallenge(_ challenge: MFAChallenge) async throws
    /// The challenge with this token hash.
    func mfaChallenge(tokenHash: String) async throws -> MFAChallenge?
    /// Counts a wrong code; deletes the challenge when `maxFailures` is reached. Returns the count.
    func recordMFAChallengeFailure(tokenHash: String, maxFailures: Int) async throws -> Int
    /// Deletes the challenge; true for exactly one caller.
    func consumeMFAChallenge(tokenHash: String) async throws -> Bool
}
