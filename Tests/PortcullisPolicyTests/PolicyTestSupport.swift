import PortcullisPolicy
import Testing

/// Compiles one YAML text named `main.yaml`.
func yamlPolicy(_ text: String) throws -> Policy {
    try Policy.compile([PolicySource(name: "main.yaml", contents: text)])
}

/// The issues a set of sources produces; fails the test if they compile.
func issues(_ sources: [PolicySource], sourceLocation: SourceLocation = #_sourceLocation) -> [PolicyIssue] {
    do {
        _ = try Policy.compile(sources)
        Issue.record("expected the policy to be rejected", sourceLocation: sourceLocation)
        return []
    } catch let error as PolicyLoadError {
        return error.issues
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return []
    }
}

/// The issues of one YAML text named `main.yaml`.
func yamlIssues(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [PolicyIssue] {
    issues([PolicySource(name: "main.yaml", contents: text)], sourceLocation: sourceLocation)
}

extension Policy {
    /// Shorthand: is `roles` allowed `action` on `resource`?
    func allows(_ roles: [String], _ action: String, _ resource: String, subject: String = "someone") -> Bool {
        decide(subject: subject, grantedRoles: roles, action: action, resource: resource).allowed
    }
}
