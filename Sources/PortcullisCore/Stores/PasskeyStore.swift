public import Foundation

/// Passkeys (WebAuthn credentials), the per-user WebAuthn user handle, and challenges of
/// ceremonies in progress. Deleting a user removes all three.
public protocol PasskeyStore: Sendable {
    /// Registers a passkey; throws `conflict` (storing nothing) when its credential id is already
    /// registered, to this user or any other.
    func addPasskey(_ passkey: Passkey) async throws
    /// The user's passkeys, oldest first.
    func passkeys(userID: String) async throws -> [Passkey]
    /// The passkey with this credential id, whoever owns it.
    func passkey(credentialID: [UInt8]) async throws -> Passkey?
    /// How many passkeys the user has (login asks whether there is any).
    func passkeyCount(userID: String) async throws -> Int
    /// Renames the user's passkey `id`; false when the user has no such passkey.
    func renamePasskey(id: String, userID: String, name: String) async throws -> Bool
    /// Removes the user's passkey `id`; false when the user has no such passkey.
    func deletePasskey(id: String, userID: String) async throws -> Bool
    /// Compare-and-set of the sign count after a verified assertion: sets the count to `to` and the
    /// last use to `at` only if the stored count is still `from` and the passkey is not flagged.
    /// Of concurrent calls from one `from` (to another value) exactly one succeeds. When `to`
    /// equals `from` (authenticators that always report 0) the count orders nothing: the
    /// one-time challenge is then the only replay guard.
    func advancePasskeySignCount(id: String, from: UInt32, to: UInt32, at: Date) async throws -> Bool
    /// Marks the passkey possibly cloned (its sign count went backwards); false when there is no
    /// such passkey or it was flagged before (the first time is kept).
    func flagPasskey(id: String, at: Date) async throws -> Bool
    /// The user's WebAuthn user handle, if one was made.
    func webAuthnUserHandle(userID: String) async throws -> [UInt8]?
    /// The user's handle: `candidate` is stored when the user has none yet, else the stored one is
    /// returned; concurrent calls for one user all return the same handle. Throws `conflict` when
    /// `candidate` is another user's handle.
    func ensureWebAuthnUserHandle(userID: String, candidate: [UInt8]) async throws -> [UInt8]
    /// The user a WebAuthn user handle belongs to.
    func userID(webAuthnUserHandle: [UInt8]) async throws -> String?
    /// Stores a challenge, replacing one with the same key.
    func saveWebAuthnChallenge(_ challenge: WebAuthnChallenge) async throws
    /// Removes and returns the challenge with this key; of concurrent callers exactly one gets it.
    /// An expired challenge is returned too (the caller checks `expiresAt`) until the expiry sweep
    /// removes it.
    func consumeWebAuthnChallenge(key: String) async throws -> WebAuthnChallenge?
}

extension PortcullisError {
    /// `addPasskey` of a credential id that is registered already (to anyone).
    public static let passkeyAlreadyRegistered = PortcullisError.conflict("this passkey is already registered")
    /// `ensureWebAuthnUserHandle` with a candidate that is another user's handle.
    public static let webAuthnUserHandleTaken = PortcullisError.conflict("this WebAuthn user handle belongs to another user")
}
