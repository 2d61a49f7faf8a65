public import Foundation

/// Single-use authorization codes, stored by hash.
public protocol AuthorizationCodeStore: Sendable {
    /// Stores a fresh code.
    func createAuthorizationCode(_ record: AuthorizationCodeRecord) async throws
    /// In one transaction: a used code is a replay (its family is revoked); otherwise `check` runs
    /// on the record, and only when it finds nothing wrong is the code marked used, recording the
    /// family and jti about to be issued. Of concurrent redemptions of one code exactly one redeems.
    func redeemAuthorizationCode(hash: String, familyID: String, accessTokenID: String, at: Date,
                                 check: @Sendable (AuthorizationCodeRecord) -> OAuthError?) async throws -> CodeRedemption
    /// True once a replay of the code was seen (checked again after issuing, to close the race).
    func wasAuthorizationCodeReplayed(hash: String) async throws -> Bool
}

/// What redeeming a code found.
public enum CodeRedemption: Sendable, Equatable {
    /// First use: the record, now marked used with the family and jti to issue.
    case redeemed(AuthorizationCodeRecord)
    /// The code is live but the request does not match it (client, redirect URI, PKCE, expiry):
    /// nothing was consumed, so a stolen code cannot be burned by whoever holds it.
    case rejected(OAuthError)
    /// Used before: the record of the first redemption (its tokens are to be revoked).
    case replayed(AuthorizationCodeRecord)
    /// No such code.
    case unknown
}
