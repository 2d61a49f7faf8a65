import Foundation

/// `grant_type=refresh_token` (RFC 6749 section 6): rotation with reuse detection, for the
/// client that owns the family only. Another owner's token (a REST session's, another client's)
/// is `invalid_grant` and nothing is consumed (RFC 9700 section 4.14).
public struct RefreshTokenGrant: TokenGrant {
    /// `refresh_token`.
    public let grantType = GrantType.refreshToken
    let auth: AuthService

    /// The grant over `auth`'s store and token issuer.
    public init(auth: AuthService) {
        self.auth = auth
    }

    public func handle(_ request: TokenRequest, client: OAuthClient, remoteAddress: String) async throws -> OAuthTokenResponse {
        guard let presented = request.refreshToken, !presented.isEmpty, presented.utf8.count <= 512 else {
            throw OAuthError(.invalidRequest, "refresh_token is required")
        }
        let now = auth.clock()
        // Scope and resources are checked against the family before anything is consumed; the
        // owner is checked again inside the rotation's transaction.
        guard let family = try await auth.store.family(ofTokenHash: AuthService.hash(presented)), family.clientID == client.id else {
            try await auth.addressFailed(remoteAddress, now: now)
            throw OAuthError(.invalidGrant, "refresh token is not valid")
        }
        let granted = Scope(parsing: family.scope)
        var scope = granted
        if let requested = request.scope {
            guard requested.isSubset(of: granted) else { throw OAuthError(.invalidScope, "a refresh cannot widen the scope") }
            scope = granted.narrowed(to: requested)
        }
        try client.checkResources(request.resources, within: family.resources)
        let resources = request.resources.isEmpty ? family.resources : request.resources

        let rotation = try await auth.tokens.families.rotate(presented, owner: .client(client.id))
        switch rotation.outcome {
        case .rotated(let family, _):
            guard let user = try await auth.store.user(id: family.userID), !user.disabled else {
                _ = try await auth.store.revokeFamily(id: family.id, reason: "user_unavailable", at: now)
                throw OAuthError(.invalidGrant, "refresh token is not valid")
            }
            let access = try await auth.tokens.accessToken(for: user, client: client, scope: scope, resources: resources, familyID: family.id)
            auth.metrics.tokenIssued(grant: grantType.rawValue)
            try await auth.audit("oauth.token.refresh", actor: client.id, subject: user.id, address: remoteAddress, at: now)
            return OAuthTokenResponse(accessToken: access, expiresIn: auth.tokens.expiresIn, refreshToken: rotation.successor,
                                      idToken: nil, scope: scope.text)
        case .reused(let familyID):
            try await auth.addressFailed(remoteAddress, now: now)
            try await auth.auditReuse(familyID: familyID, actor: client.id, address: remoteAddress, at: now)
            throw OAuthError(.invalidGrant, "refresh token was already used; the session is revoked")
        case .unknown, .expired, .revoked, .wrongOwner:
            try await auth.addressFailed(remoteAddress, now: now)
            throw OAuthError(.invalidGrant, "refresh token is not valid")
        }
    }
}
