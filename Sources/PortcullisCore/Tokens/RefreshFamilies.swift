import Foundation
import PortcullisCrypto

/// The one place refresh tokens are minted and rotated, for the REST API and every OAuth client.
///
/// A family records its owner; `rotate` consumes a token only for that owner, inside the store's
/// transaction, so a client's token presented at `/v1/token/refresh` (or another client's) is
/// refused with nothing consumed.
public struct RefreshFamilies: Sendable {
    let store: any SessionStore
    let refreshTokenTTL: TimeInterval
    let graceWindow: TimeInterval
    let clock: @Sendable () -> Date

    /// A new session of `userID` for `owner`; with `issueRefreshToken` its first refresh token (shown once).
    public func start(id: String? = nil, userID: String, owner: FamilyOwner, scope: Scope,
                      resources: [String], issueRefreshToken: Bool) async throws -> (family: TokenFamily, refreshToken: String?) {
        let now = clock()
        let id = id ?? SecureRandom.token(byteCount: 16)
        let family = TokenFamily(id: id, userID: userID, clientID: owner.clientID, scope: scope.text, resources: resources, createdAt: now)
        let token = issueRefreshToken ? SecureRandom.token() : nil
        try await store.createFamily(family, firstToken: token.map { record(for: $0, familyID: id, now: now) })
        return (family, token)
    }

    /// What presenting a refresh token led to: the outcome and, when rotated, the successor token.
    public struct Rotation: Sendable {
        /// The store's verdict.
        public let outcome: RotationOutcome
        /// The new refresh token, valid only when `outcome` is `.rotated`.
        public let successor: String
    }

    /// Rotates `presented` if `owner` owns its family: the old token dies, a successor is stored.
    public func rotate(_ presented: String, owner: FamilyOwner) async throws -> Rotation {
        let now = clock()
        let successor = SecureRandom.token()
        let outcome = try await store.rotate(presentedHash: AuthService.hash(presented), owner: owner,
                                             successor: record(for: successor, familyID: "", now: now), at: now, graceWindow: graceWindow)
        return Rotation(outcome: outcome, successor: successor)
    }

    func record(for token: String, familyID: String, now: Date) -> RefreshTokenRecord {
        RefreshTokenRecord(tokenHash: AuthService.hash(token), familyID: familyID, issuedAt: now, expiresAt: now.addingTimeInterval(refreshTokenTTL))
    }
}
