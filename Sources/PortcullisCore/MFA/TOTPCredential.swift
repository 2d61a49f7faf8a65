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
