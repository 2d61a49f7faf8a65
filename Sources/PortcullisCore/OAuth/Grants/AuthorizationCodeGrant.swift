import Foundation
import PortcullisCrypto

/// `grant_type=authorization_code` (RFC 6749 section 4.1.3, RFC 7636, OIDC Core 3.1.3).
///
/// The code is checked against the request (client, expiry, redirect URI, PKCE, resources) inside
/// the transaction that consumes it, so a request that does not match burns nothing. A replayed
/// code revokes what its first redemption issued — even when the replay races that redemption.
public struct AuthorizationCodeGrant: TokenGrant {
    /// `authorization_code`.
    public let grantType = GrantType.authorizationCode
    let auth: AuthService
    let codes: any AuthorizationCodeStore

    /// The grant over the codes in `codes` and `auth`'s store and token issuer.
    public init(auth: AuthService, store codes: any AuthorizationCodeStore) {
        self.auth = auth
        self.codes = codes
    }

    public func handle(_ request: TokenRequest, client: OAuthClient, remoteAddress: String) async throws -> OAuthTokenResponse {
        guard let code = request.code, !code.isEmpty, code.utf8.count <= 256 else { throw OAuthError(.invalidRequest, "code is required") }
        guard let redirectURI = request.redirectURI, !redirectURI.isEmpty else { throw OAuthError(.invalidRequest, "redirect_uri is required") }
        let verifier = request.codeVerifier
        if let verifier {
            guard (43...128).contains(verifier.count), verifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }) else {
                throw OAuthError(.invalidRequest, "code_verifier is malformed")
            }
        }
        let now = auth.clock()
        let hash = AuthService.hash(code)
        let familyID = SecureRandom.token(byteCount: 16)
        let jti = SecureRandom.token(byteCount: 16)
        let requested = request.resources
        let outcome = try await codes.redeemAuthorizationCode(hash: hash, familyID: familyID, accessTokenID: jti, at: now) { record in
            Self.mismatch(record, client: client, redirectURI: redirectURI, verifier: verifier, resources: requested, now: now)
        }
        switch outcome {
        case .unknown:
            try await auth.addressFailed(remoteAddress, now: now)
            throw OAuthError(.invalidGrant, "authorization code is not valid")
        case .rejected(let error):
            try await auth.addressFailed(remoteAddress, now: now)
            throw error
        case .replayed(let first):
            try await revokeIssued(from: first, now: now)
            try await auth.addressFailed(remoteAddress, now: now)
            try await auth.audit("oauth.code.replay", actor: client.id, subject: first.userID, address: remoteAddress,
                                 detail: "tokens of the first redemption revoked", at: now)
            throw OAuthError(.invalidGrant, "authorization code was already used")
        case .redeemed(let record):
            guard let user = try await auth.store.user(id: record.userID), !user.disabled else {
                throw OAuthError(.invalidGrant, "the user is no longer active")
            }
            let scope = Scope(parsing: record.scope)
            let resources = requested.isEmpty ? record.resources : requested
            let wantsRefresh = scope.contains("offline_access") && client.grantTypes.contains(.refreshToken)
            let (_, refreshToken) = try await auth.tokens.families.start(
                id: familyID, userID: user.id, owner: .client(client.id), scope: scope, resources: resources, issueRefreshToken: wantsRefresh)
            let access = try await auth.tokens.accessToken(for: user, client: client, scope: scope, resources: resources, familyID: familyID, jti: jti)
            // A replay that raced this redemption revoked the family before it existed: check again.
            if try await codes.wasAuthorizationCodeReplayed(hash: hash) {
                try await revokeIssued(from: record, now: now)
                throw OAuthError(.invalidGrant, "authorization code was already used")
            }
            let idToken = scope.contains("openid")
                ? try auth.tokens.idToken(for: user, client: client, scope: scope, nonce: record.nonce, authTime: record.authTime,
                                          amr: record.amr, accessToken: access)
                : nil
            auth.metrics.tokenIssued(grant: grantType.rawValue)
            try await auth.audit("oauth.token.issue", actor: client.id, subject: user.id, address: remoteAddress,
                                 detail: "authorization_code \(record.scope)", at: now)
            return OAuthTokenResponse(accessToken: access, expiresIn: auth.tokens.expiresIn, refreshToken: refreshToken, idToken: idToken,
                                      scope: record.scope)
        }
    }

    /// What is wrong with redeeming `record` for this request, or nil.
    static func mismatch(_ record: AuthorizationCodeRecord, client: OAuthClient, redirectURI: String, verifier: String?,
                         resources: [String], now: Date) -> OAuthError? {
        guard record.clientID == client.id else { return OAuthError(.invalidGrant, "authorization code was issued to another client") }
        guard record.expiresAt > now else { return OAuthError(.invalidGrant, "authorization code expired") }
        guard record.redirectURI == redirectURI else { return OAuthError(.invalidGrant, "redirect_uri does not match the authorization request") }
        switch (record.codeChallenge, verifier) {
        case (nil, nil): break
        case (let challenge?, let verifier?):
            let computed = Base64URL.encode(Digest.sha256(verifier))
            guard ConstantTime.equals(Array(computed.utf8), Array(challenge.utf8)) else {
                return OAuthError(.invalidGrant, "code_verifier does not match the code_challenge")
            }
        case (nil, _?): return OAuthError(.invalidGrant, "code_verifier given but the authorization request had no code_challenge")
        case (_?, nil): return OAuthError(.invalidGrant, "code_verifier is required")
        }
        do { try client.checkResources(resources, within: record.resources) } catch { return error }
        return nil
    }

    func revokeIssued(from record: AuthorizationCodeRecord, now: Date) async throws {
        if let familyID = record.familyID { _ = try await auth.store.revokeFamily(id: familyID, reason: "code_replay", at: now) }
        if let jti = record.accessTokenID {
            try await auth.store.revokeAccessToken(jti: jti, expiresAt: now.addingTimeInterval(auth.configuration.accessTokenTTL + 120), at: now)
        }
    }
}
