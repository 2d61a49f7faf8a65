public import PortcullisPolicy

/// Replays logged decisions against a candidate policy before anyone deploys it.
public enum PolicyDiff {
    /// Every distinct logged question (subject, grants, action, resource) whose answer would flip
    /// under `candidate`, newest first. Grants are replayed as logged; static bindings come from
    /// the candidate, so a changed binding shows up too.
    public static func flips(of records: [DecisionRecord], under candidate: Policy) -> [DecisionFlip] {
        var seen = Set<String>()
        var flips: [DecisionFlip] = []
        for record in records {
            let key = [record.subject, record.grantedRoles.joined(separator: ","), record.action, record.resource].joined(separator: "\u{1F}")
            guard seen.insert(key).inserted else { continue }
            let decision = candidate.decide(subject: record.subject, grantedRoles: record.grantedRoles, action: record.action, resource: record.resource)
            if decision.allowed != record.allowed {
                flips.append(DecisionFlip(record: record, candidateAllowed: decision.allowed, candidateReason: decision.reason))
            }
        }
        return flips
    }
}
