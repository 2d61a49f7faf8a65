import Foundation
import PortcullisPolicy

/// A decision with the subject it was made for (the `/v1/authorize` answer).
public struct AuthorizationAnswer: Sendable, Equatable {
    /// Allowed or not.
    public var allowed: Bool
    /// Username or client id decided for.
    public var subject: String
    /// The effective roles considered.
    public var roles: [String]
    /// The deciding rule as FILE:LINE with the rule, "no rule matched", or why the subject or token may not.
    public var reason: String
    /// Token form: the token's client (nil for REST-login tokens).
    public var clientID: String?
    /// Token form: the token's scope.
    public var scope: String?
    /// Token form: the token's audience.
    public var audience: Audience?
}

/// "May this subject do this action on this resource?", on the subject's current roles.
public struct AuthorizationService: Sendable {
    /// The resource and action a caller needs to ask about other subjects.
    public static let checkResource = "portcullis/authz"
    /// See `checkResource`.
    public static let checkAction = "check"

    let auth: AuthService
    let store: any UserStore & RoleGrantStore
    let policies: PolicyProvider
    let decisionLog: DecisionLog?

    /// Decisions over `policies`, logged to `decisionLog` when given.
    public init(auth: AuthService, store: any UserStore & RoleGrantStore, policies: PolicyProvider, decisionLog: DecisionLog?) {
        self.auth = auth
        self.store = store
        self.policies = policies
        self.decisionLog = decisionLog
    }

    /// Token form: decides for the token's own subject, on its current roles (not the token's snapshot).
    ///
    /// With `audience`, a token whose `aud` lacks it is not allowed, whatever the policy says.
    public func authorize(token: String, action: String, resource: String, audience: String? = nil) async throws -> AuthorizationAnswer {
        if let answer = try authorizeImmediately(token: token, action: action, resource: resource, audience: audience) { return answer }
        // One read: the token's liveness and its user's granted roles.
        let (verdict, granted) = try await auth.verifyReadingRoles(token, audience: audience)
        switch verdict {
        case .inactive:
            throw PortcullisError.invalidToken("token is not valid")
        case .otherAudience(let claims, let reason):
            auth.metrics.decision(allowed: false)
            return AuthorizationAnswer(allowed: false, subject: try await subjectName(of: claims), roles: [], reason: reason,
                                       clientID: claims.clientID, scope: claims.scope, audience: claims.aud)
        case .active(let claims):
            var answer = decide(subject: try await subjectName(of: claims), grantedRoles: granted, action: action, resource: resource)
            answer.clientID = claims.clientID
            answer.scope = claims.scope
            answer.audience = claims.aud
            return answer
        }
    }

    /// The token form answered on the calling thread (the hot path), or nil when it must wait: the
    /// token's liveness or its subject's name needs an async read (see `AuthService.verifyImmediately`).
    public func authorizeImmediately(token: String, action: String, resource: String, audience: String? = nil) throws -> AuthorizationAnswer? {
        try Self.validate(action: action, resource: resource)
        guard let (verdict, granted) = try auth.verifyReadingRolesImmediately(token, audience: audience) else { return nil }
        switch verdict {
        case .inactive:
            throw PortcullisError.invalidToken("token is not valid")
        case .otherAudience(let claims, let reason):
            guard let subject = Self.subjectNameInClaims(claims) else { return nil }
            auth.metrics.decision(allowed: false)
            return AuthorizationAnswer(allowed: false, subject: subject, roles: [], reason: reason,
                                       clientID: claims.clientID, scope: claims.scope, audience: claims.aud)
        case .active(let claims):
            guard let subject = Self.subjectNameInClaims(claims) else { return nil }
            var answer = decide(subject: subject, grantedRoles: granted, action: action, resource: resource)
            answer.clientID = claims.clientID
            answer.scope = claims.scope
            answer.audience = claims.aud
            return answer
        }
    }

    /// Subject form: the caller's token must itself be allowed `check` on `portcullis/authz` (and,
    /// with `audience`, carry it). A disabled user is never allowed.
    public func authorize(callerToken: String, subject: String, action: String, resource: String, audience: String? = nil) async throws -> AuthorizationAnswer {
        try Self.validate(action: action, resource: resource)
        let claims: AccessTokenClaims
        switch try await auth.verify(callerToken, audience: audience) {
        case .active(let verified): claims = verified
        case .inactive: throw PortcullisError.invalidToken("bearer token is not valid")
        case .otherAudience(_, let reason): throw PortcullisError.forbidden("the caller's token may not be used here: \(reason)")
        }
        let caller = try await decide(subject: try await subjectName(of: claims), userID: claims.isUserToken ? claims.sub : nil,
                                      action: Self.checkAction, resource: Self.checkResource)
        guard caller.allowed else {
            throw PortcullisError.forbidden("the caller may not check other subjects (needs \(Self.checkAction) on \(Self.checkResource))")
        }
        let user = try await store.user(username: subject)
        if let user, user.disabled {
            auth.metrics.decision(allowed: false)
            return AuthorizationAnswer(allowed: false, subject: user.username, roles: [], reason: "subject disabled")
        }
        return try await decide(subject: user?.username ?? subject, userID: user?.id, action: action, resource: resource)
    }

    /// The effective roles of a user (grants + static bindings, closed under inheritance).
    public func effectiveRoles(of user: User) async throws -> [String] {
        policies.current.effectiveRoles(subject: user.username, grantedRoles: try await store.roles(ofUserID: user.id))
    }

    /// Decides and logs; callers have validated `action` and `resource` (both public entry points do, first).
    func decide(subject: String, userID: String?, action: String, resource: String) async throws -> AuthorizationAnswer {
        var granted: [String] = []
        if let userID { granted = try await store.roles(ofUserID: userID) }
        return decide(subject: subject, grantedRoles: granted, action: action, resource: resource)
    }

    /// `decide` on roles already read.
    func decide(subject: String, grantedRoles granted: [String], action: String, resource: String) -> AuthorizationAnswer {
        let policy = policies.current
        let decision = policy.decide(subject: subject, grantedRoles: granted, action: action, resource: resource)
        auth.metrics.decision(allowed: decision.allowed)
        decisionLog?.record(DecisionRecord(
            at: Date(), subject: subject, grantedRoles: granted, action: action, resource: resource,
            allowed: decision.allowed, rule: decision.decidingRule?.location, policyVersion: policy.version))
        return AuthorizationAnswer(allowed: decision.allowed, subject: subject, roles: decision.roles, reason: decision.reason)
    }

    private func subjectName(of claims: AccessTokenClaims) async throws -> String {
        if let name = Self.subjectNameInClaims(claims) { return name }
        guard let user = try await store.user(id: claims.sub) else { throw PortcullisError.invalidToken("token is not valid") }
        return user.username
    }

    /// The subject's name when the claims carry it: the client of a client token, or the username
    /// (liveness has just checked that this user exists and is enabled, and usernames never change).
    private static func subjectNameInClaims(_ claims: AccessTokenClaims) -> String? {
        if let client = claims.clientID, !claims.isUserToken { return client }
        return claims.username
    }

    /// Bounds both, and refuses a non-canonical resource (an empty, `.` or `..` segment) before any
    /// decision, so no other spelling of a path slips past a deny rule (issue 13).
    static func validate(action: String, resource: String) throws {
        guard action.utf8.count <= 256, resource.utf8.count <= 2048 else {
            throw PortcullisError.invalidRequest("action or resource too long")
        }
        if let violation = ResourcePath.canonicalityViolation(resource) {
            throw PortcullisError.invalidRequest(violation)
        }
    }
}
