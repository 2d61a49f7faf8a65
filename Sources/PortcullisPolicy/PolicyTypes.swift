/// One problem in a policy file, at a 1-based line.
public struct PolicyIssue: Error, Sendable, Equatable, CustomStringConvertible {
    /// File name as given to the loader (e.g. `documents.yaml`).
    public let file: String
    /// 1-based line.
    public let line: Int
    /// What is wrong.
    public let message: String

    /// Creates an issue.
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `FILE:LINE: message`.
    public var description: String { "\(file):\(line): \(message)" }
}

/// Every problem found while loading a policy; nothing of it is in force.
public struct PolicyLoadError: Error, Sendable, CustomStringConvertible {
    /// The problems, in file and line order.
    public let issues: [PolicyIssue]

    /// One issue per line.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Allow or deny.
public enum PolicyEffect: String, Sendable {
    /// Grants the permission unless a deny also matches.
    case allow
    /// Overrides every allow.
    case deny
}

/// One `RESOURCE:ACTION` rule of one role, with where it was written.
public struct PolicyRule: Sendable, Equatable {
    /// The role it belongs to.
    public let role: String
    /// Resource pattern: exact, or ending in one `*`.
    public let resource: String
    /// Action pattern: exact, or ending in one `*`.
    public let action: String
    /// Allow or deny.
    public let effect: PolicyEffect
    /// File it was written in.
    public let file: String
    /// 1-based line.
    public let line: Int
    /// `FILE:LINE`.
    public let location: String
    /// The explanation of a decision this rule decides (a deny rule decides only denials, an allow
    /// rule only allowances), made once here rather than per decision.
    let decisionReason: String

    /// A rule of `role`, written at `file`:`line`.
    init(role: String, resource: String, action: String, effect: PolicyEffect, file: String, line: Int) {
        self.role = role
        self.resource = resource
        self.action = action
        self.effect = effect
        self.file = file
        self.line = line
        location = "\(file):\(line)"
        decisionReason = "\(effect == .allow ? "allowed" : "denied") by \(location) (\(role) \(effect.rawValue) \(resource):\(action))"
    }
}

/// An answer with its explanation.
public struct PolicyDecision: Sendable, Equatable {
    /// True when some allow rule of the roles matches and no deny rule does.
    public let allowed: Bool
    /// The deny rule that matched; else the first matching allow rule (file order); else nil.
    public let decidingRule: PolicyRule?
    let policy: Policy
    let topRoles: [Int]

    init(allowed: Bool, decidingRule: PolicyRule?, policy: Policy, topRoles: [Int]) {
        self.allowed = allowed
        self.decidingRule = decidingRule
        self.policy = policy
        self.topRoles = topRoles
    }

    /// The effective roles considered, sorted; worked out when asked for, not on every decision.
    public var roles: [String] { policy.roles(for: topRoles) }

    /// E.g. `allowed by documents.yaml:7 (editor allow documents/*:write)` or `no rule matched`.
    public var reason: String {
        decidingRule?.decisionReason ?? "no rule matched"
    }

    /// Same answer, same deciding rule, same roles.
    public static func == (lhs: PolicyDecision, rhs: PolicyDecision) -> Bool {
        lhs.allowed == rhs.allowed && lhs.decidingRule == rhs.decidingRule && lhs.roles == rhs.roles
    }
}

/// A policy file's name and text.
public struct PolicySource: Sendable {
    /// File name, used in FILE:LINE and to pick the grammar (`.yaml`/`.yml` or `.csv`).
    public let name: String
    /// The text.
    public let contents: String

    /// Creates a source.
    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}
