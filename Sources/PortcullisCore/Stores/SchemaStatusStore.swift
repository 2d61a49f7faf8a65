/// How the database's schema compares with the migrations this binary was built with.
public protocol SchemaStatusStore: Sendable {
    /// The applied migrations against this binary's list, in one cheap read (no lock, no write):
    /// `/readyz` asks it, so a replica whose database is behind it (or diverged) is taken out of the
    /// load balancer; one a newer release migrated further keeps serving, and says so.
    func schemaStatus() async throws -> SchemaStatus
}

/// The database's applied migrations compared with this binary's list.
public enum SchemaStatus: Sendable, Equatable {
    /// Exactly this binary's migrations are applied.
    case current
    /// These of the binary's migrations are not applied (the database is older than the binary).
    case behind(pending: [String])
    /// The database records migrations this binary does not know (a newer release migrated it).
    case ahead(unknown: [String])
    /// A migration was applied with different SQL than this binary's (PostgreSQL's checksums).
    case diverged(ids: [String])

    /// One word for `/readyz`: `current`, `behind`, `ahead` or `diverged`.
    public var label: String {
        switch self {
        case .current: "current"
        case .behind: "behind"
        case .ahead: "ahead"
        case .diverged: "diverged"
        }
    }

    /// The migrations this status is about: pending, unknown to this binary, or diverged; none when current.
    public var migrations: [String] {
        switch self {
        case .current: []
        case .behind(let pending): pending
        case .ahead(let unknown): unknown
        case .diverged(let ids): ids
        }
    }

    /// Compares the applied migration ids with `known` (the binary's, oldest first). A database
    /// with unknown migrations is `ahead` even if it also lacks some of ours: a newer list wrote it.
    public static func comparing(applied: Set<String>, known: [String]) -> SchemaStatus {
        let unknown = applied.subtracting(known).sorted()
        if !unknown.isEmpty { return .ahead(unknown: unknown) }
        let pending = known.filter { !applied.contains($0) }
        return pending.isEmpty ? .current : .behind(pending: pending)
    }
}
