public import Foundation

/// A WebAuthn credential (passkey) registered to a user, as stored: what the authenticator gave at
/// registration and what the server learns at each use. Verification happens elsewhere; the store
/// only keeps these values and guards the sign count.
public struct Passkey: Sendable, Equatable {
    /// Our own short random identifier, used in URLs (e.g. base64url of 16 random bytes); made by the caller.
    public var id: String
    /// Owner.
    public var userID: String
    /// The authenticator's credential id (at most 1023 bytes), unique across all users.
    public var credentialID: [UInt8]
    /// The credential's public key as COSE key bytes, as received at registration.
    public var publicKey: [UInt8]
    /// The COSE algorithm identifier (-7 for ES256, -8 for EdDSA, -257 for RS256).
    public var algorithm: Int
    /// The last signature counter seen; 0 for authenticators that keep none.
    public var signCount: UInt32
    /// Transport hints (`usb`, `nfc`, `ble`, `internal`, `hybrid`), handed back to the browser.
    public var transports: [String]
    /// The BE flag: the credential may be synced to other devices.
    public var backupEligible: Bool
    /// The BS flag at the last use: the credential is currently backed up (synced).
    public var backedUp: Bool
    /// The user's label for it.
    public var name: String
    /// When it was registered.
    public var createdAt: Date
    /// When it last signed in; nil before its first use.
    public var lastUsedAt: Date?
    /// When its sign count went backwards ("possibly cloned"); a flagged passkey is refused until removed.
    public var flaggedAt: Date?
    /// The authenticator model's AAGUID (16 bytes; zeros when not disclosed).
    public var aaguid: [UInt8]
    /// The attestation statement format at registration (`none`, `packed`, …).
    public var attestationFormat: String

    /// Creates a passkey value.
    public init(id: String, userID: String, credentialID: [UInt8], publicKey: [UInt8], algorithm: Int, signCount: UInt32,
                transports: [String], backupEligible: Bool, backedUp: Bool, name: String, createdAt: Date, lastUsedAt: Date? = nil,
                flaggedAt: Date? = nil, aaguid: [UInt8], attestationFormat: String) {
        self.id = id
        self.userID = userID
        self.credentialID = credentialID
        self.publicKey = publicKey
        self.algorithm = algorithm
        self.signCount = signCount
        self.transports = transports
        self.backupEligible = backupEligible
        self.backedUp = backedUp
        self.name = name
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.flaggedAt = flaggedAt
        self.aaguid = aaguid
        self.attestationFormat = attestationFormat
    }

    /// True once flagged as possibly cloned: it must not sign anyone in.
    public var isFlagged: Bool { flaggedAt != nil }
}

/// A WebAuthn ceremony in progress: the challenge the server sent, kept until the answer comes
/// back (or it expires), and consumed once.
public struct WebAuthnChallenge: Sendable, Equatable {
    /// Where it is looked up: a hash the caller computes (of the challenge bytes, or of a token it
    /// handed out); never the raw secret.
    public var key: String
    /// The ceremony: `register`, `login` or `mfa`.
    public var purpose: String
    /// The user it was issued for; nil for a login that names nobody yet (discoverable credentials).
    public var userID: String?
    /// The random challenge bytes sent to the browser.
    public var challenge: [UInt8]
    /// After this it must be refused; the store returns an expired one too and the caller checks.
    public var expiresAt: Date

    /// Creates a challenge value.
    public init(key: String, purpose: String, userID: String?, challenge: [UInt8], expiresAt: Date) {
        self.key = key
        self.purpose = purpose
        self.userID = userID
        self.challenge = challenge
        self.expiresAt = expiresAt
    }
}
