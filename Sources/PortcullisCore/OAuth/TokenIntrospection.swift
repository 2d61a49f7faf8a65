import Foundation
import PortcullisCrypto

/// Revocation (RFC 7009), introspection (RFC 7662) and OIDC userinfo.
public struct TokenIntrospection: Sendable {
    let auth: AuthService

    /// Over `auth`'s store and signer.
    public init(auth: AuthService) {
        self.auth = auth
    }

    /// RFC 7009: revokes a refresh token's family or an access token of this client. Unknown tokens are not an error.
    public func revoke(client: OAuthClient, token: String, remoteAddress: String) async throws {
        guard !token.isEmpty, token.utf8.count <= JWS.maximumLength else { throw OAuthError(.invalidRequest, "token is required") }
        let now = auth.clock()
        if let family = try await auth.store.family(ofTokenHash: AuthService.hash(token)) {
            if family.clientID == client.id, try await auth.store.revokeFamily(id: family.id, reason: "revoked_by_client", at: now) {
                try await auth.audit("oauth.revoke", actor: client.id, subject: family.id, address: remoteAddress, detail: "refresh token family", at: now)
            }
            return
        }
        if let claims = try? auth.signer.verify(token, now: now), claims.clientID == client.id {
            try await auth.store.revokeAccessToken(jti: claims.jti, expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp + AccessTokenSigner.leeway)), at: now)
            try await auth.audit("oauth.revoke", actor: client.id, subject: claims.jti, address: remoteAddress, detail: "access token", at: now)
        }
    }

    /// RFC 7662 member set for a live token, or nil (`active:false`). Refresh tokens only for their own client.
    public func introspect(client: OAuthClient, token: String) async throws -> IntrospectionMembers? {
        if case .answered(let answer) = try introspectImmediately(client: client, token: token) { return answer }
        if let claims = try await auth.introspect(token) { return Self.members(claims) }
        if let family = try await auth.store.liveFamily(ofRefreshTokenHash: AuthService.hash(token), at: auth.clock()),
           family.clientID == client.id, let user = try await auth.store.user(id: family.userID), !user.disabled {
            return IntrospectionMembers(["active": .bool(true), "token_type": .string("refresh_token"), "scope": .string(family.scope),
                                         "client_id": .string(client.id), "sub": .string(user.id), "username": .string(user.username),
                                         "iss": .string(auth.configuration.issuer)])
        }
        return nil
    }

    /// `introspect` on the calling thread (the hot path) for access tokens, or `.mustWait`: for a
    /// token that may be a refresh token (those are looked up by hash), and when the store cannot
    /// answer liveness without waiting. An access token is a JWS and has dots; a refresh token
    /// (base64url) never does, so a JWS-shaped string that is not a live access token is inactive.
    public func introspectImmediately(client: OAuthClient, token: String) throws -> Immediate<IntrospectionMembers?> {
        guard !token.isEmpty, token.utf8.count <= JWS.maximumLength else { return .answered(nil) }
        guard let verdict = try auth.verifyImmediately(token, audience: nil) else { return .mustWait }
        if case .active(let claims) = verdict { return .answered(Self.members(claims)) }
        return token.utf8.contains(UInt8(ascii: ".")) ? .answered(nil) : .mustWait
    }

    /// The RFC 7662 members of a live access token, built in name order (no dictionary, no sort:
    /// this runs at every introspection).
    static func members(_ claims: AccessTokenClaims) -> IntrospectionMembers {
        var members: [IntrospectionMembers.Member] = []
        members.reserveCapacity(14)
        func add(_ name: String, _ value: IntrospectionValue) { members.append(.init(name: name, value: value)) }
        add("active", .bool(true))
        add("aud", claims.aud.values.count == 1 ? .string(claims.aud.values[0]) : .strings(claims.aud.values))
        if let clientID = claims.clientID { add("client_id", .string(clientID)) }
        add("exp", .int(claims.exp))
        add("iat", .int(claims.iat))
        add("iss", .string(claims.iss))
        add("jti", .string(claims.jti))
        add("nbf", .int(claims.nbf))
        add("roles", .strings(claims.roles))
        add("scope", .string(claims.scope))
        if let sid = claims.sid { add("sid", .string(sid)) }
        add("sub", .string(claims.sub))
        add("token_type", .string("Bearer"))
        if let username = claims.username { add("username", .string(username)) }
        return IntrospectionMembers(sortedByName: members)
    }

    /// OIDC userinfo for a live user access token carrying `openid`.
    public func userinfo(accessToken: String) async throws -> [String: IntrospectionValue] {
        guard let claims = try await auth.introspect(accessToken), claims.isUserToken,
              let user = try await auth.store.user(id: claims.sub) else {
            throw OAuthError(.invalidRequest, "invalid_token")
        }
        let scope = Scope(parsing: claims.scope)
        guard scope.contains("openid") else { throw OAuthError(.insufficientScope, "the token lacks the openid scope") }
        var answer: [String: IntrospectionValue] = ["sub": .string(user.id)]
        if scope.contains("profile") {
            answer["preferred_username"] = .string(user.username)
            answer["name"] = .string(user.username)
            answer["updated_at"] = .int(Int64(user.updatedAt.timeIntervalSince1970))
        }
        if scope.contains("email"), let email = user.email {
            answer["email"] = .string(email)
            answer["email_verified"] = .bool(false)
        }
        return answer
    }
}

/// An RFC 7662 answer's members, in name order (the order a sorted-keys encoder writes them).
public struct IntrospectionMembers: Sendable, Equatable {
    /// One member.
    public struct Member: Sendable, Equatable {
        /// The member's name.
        public let name: String
        /// Its value.
        public let value: IntrospectionValue

        /// The member `name` with `value`.
        public init(name: String, value: IntrospectionValue) {
            self.name = name
            self.value = value
        }
    }

    /// The members, sorted by name (for the ASCII names an answer has, the order `JSONEncoder` sorts keys in).
    public let sorted: [Member]

    /// The members of `dictionary`, sorted.
    public init(_ dictionary: [String: IntrospectionValue]) {
        sorted = dictionary.sorted { $0.key < $1.key }.map { Member(name: $0.key, value: $0.value) }
    }

    /// Members already in name order.
    init(sortedByName members: [Member]) {
        sorted = members
    }
}

/// A JSON value of an introspection or userinfo answer.
public enum IntrospectionValue: Sendable, Equatable, Encodable {
    case bool(Bool)
    case string(String)
    case int(Int64)
    case strings([String])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .bool(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .strings(let value): try container.encode(value)
        }
    }
}
