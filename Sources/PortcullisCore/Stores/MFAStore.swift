public import Foundation

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
    /// Compare-and-set on an active credential: records `step` only if it is later than the last used
    /// step. Of concurrent calls with one step exactly one succeeds (the TOTP replay guard).
    func advanceTOTPStep(userID: String, to step: Int64) async throws -> Bool
    /// Marks an unused recovery code used; false when unknown or used before.
    func consumeRecoveryCode(userID: String, codeHash: String, at: Date) async throws -> Bool
    /// Unused recovery codes left.
    func remainingRecoveryCodes(userID: String) async throws -> Int
    /// Stores a login challenge.
    func createMFAChallenge(_ challenge: MFAChallenge) async throws
    /// The challenge with this token hash.
    func mfaChallenge(tokenHash: String) async throws -> MFAChallenge?
    /// Counts a wrong code; deletes the challenge when `maxFailures` is reached. Returns the count
    /// (`maxFailures` or more when the challenge is gone).
    func recordMFAChallengeFailure(tokenHash: String, maxFailures: Int) async throws -> Int
    /// Deletes the challenge; true for exactly one caller.
    func consumeMFAChallenge(tokenHash: String) async throws -> Bool
}
