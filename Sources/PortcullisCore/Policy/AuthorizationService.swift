public import Foundation
public import PortcullisPolicy

/// A decision with the subject it was made for (the `/v1/authorize` answer).
public struct AuthorizationAnswer: Sendable, Equatable {
    /// Allowed or not.
    public var allowed: Bool
    /// Username or client id decided for.
    public var subject: String
    /// The effective roles considered.
    public var roles: [String]
    /// The deciding rule as FILE:LINE with the rule, or "no rule matched".
    public var reason: String
}

/// "May this subject do this action on this resource?", on the subject's current roles.
public struct AuthorizationService: Sendable {
    /// The resource and action a caller needs to ask about other subjects.
    public static let checkResource = "portcullis/authz"
    /// See `checkResource`.
    public static let checkAction = "check"

    let auth: AuthService
    let store: any PortcullisStore
    let policies: PolicyProvider
    let decisionLog: DecisionLog?

    /// Decisions over `policies`, logged to `decisionLog` when given.
    public init(auth: AuthService, store: any PortcullisStore, policies: PolicyProvider, decisionLog: DecisionLog?) {
        self.auth = auth
        self.store = store
        self.policies = policies
        self.decisionLog = decisionLog
    }

    /// Token form: decides for the token's own subject, on its current roles (not the token's snapshot).
    public func authorize(token: String, action: String, resource: String) async throws -> AuthorizationAnswer {
        guard let claims = try await auth.introspect(token) else {
            throw PortcullisError.invalidToken("token is not valid")
        }
        return try await decide(subject: try await subjectName(of: claims), userID: claims.username != nil ? claims.sub : nil, action: action, resource: resource)
    }

    /// Subject form: the caller's token must itself be allowed `check` on `portcullis/authz`.
    public func authorize(callerToken: String, subject: String, action: String, resource: String) async throws -> AuthorizationAnswer {
        guard let claims = try await auth.introspect(callerToken) else {
            throw PortcullisError.invalidToken("bearer token is not valid")
        }
        let caller = try await decide(subject: try await subjectName(of: claims), userID: claims.username != nil ? claims.sub : nil,
                                      action: Self.checkAction, resource: Self.checkResource)
        guard caller.allowed else {
            throw PortcullisError.forbidden("the caller may not check other subjects (needs \(Self.checkAction) on \(Self.checkResource))")
        }
        let user = try await store.user(username: subject)
        return try await decide(subject: user?.username ?? subject, userID: user.flatMap { $0.disabled ? nil : $0.id }, action: action, resource: resource)
    }

    /// The effective roles of a user (grants + static bindings, closed under inheritance).
    public func effectiveRoles(of user: User) async throws -> [String] {
        policies.current.effectiveRoles(subject: user.username, grantedRoles: try await store.roles(ofUserID: user.id))
    }

    func decide(subject: String, userID: String?, action: String, resource: String) async throws -> AuthorizationAnswer {
        try Self.validate(action: action, resource: resource)
        var granted: [String] = []
        if let userID { granted = try await store.roles(ofUserID: userID) }
        let policy = policies.current
        let decision = policy.decide(subject: subject, grantedRoles: granted, action: action, resource: resource)
        auth.metrics.decision(allowed: decision.allowed)
        decisionLog?.record(DecisionRecord(
            at: Date(), subject: subject, grantedRoles: granted, action: action, resource: resource,
            allowed: decision.allowed, rule: decision.decidingRule?.location, policyVersion: policy.version))
        return AuthorizationAnswer(allowed: decision.allowed, subject: subject, roles: decision.roles, reason: decision.reason)
    }

    private func subjectName(of claims: AccessTokenClaims) async throws -> String {
        if let client = claims.clientID, claims.username == nil { return client }
        // `introspect` has just checked that this user exists and is enabled, and usernames never
        // change, so the token's username is the current one.
        if let username = claims.username { return username }
        guard let user = try await store.user(id: claims.sub) else { throw PortcullisError.invalidToken("token is not valid") }
        return user.username
    }

    static func validate(action: String, resource: String) throws {
        guard action.utf8.count <= 256, resource.utf8.count <= 2048 else {
            throw PortcullisError.invalidRequest("action or resource too long")
        }
    }
}
