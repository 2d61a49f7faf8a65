import HTTPTypes
import PortcullisCore
import PortcullisPolicy

/// `/readyz` (a hot route): ready when the database answers and holds every migration of this
/// binary (read at most every few seconds: see `SchemaStatusCache`). A schema a newer release
/// migrated further (`ahead`) stays ready: migrations are append-only and additive, so an older
/// replica keeps serving through a rolling upgrade. The key ring and policy are reported beside them.
struct Readiness: Sendable {
    let store: any PortcullisStore
    let schema: SchemaStatusCache
    let keys: any KeyRingSource
    let policies: PolicyProvider

    init(store: any PortcullisStore, keys: any KeyRingSource, policies: PolicyProvider) {
        self.store = store
        self.schema = SchemaStatusCache(store: store)
        self.keys = keys
        self.policies = policies
    }

    /// 200 `{status: ready, …}`, or 503 with `status: unavailable` and what is wrong.
    func answer() async -> PlainResponse {
        let databaseUp = await store.isHealthy()
        // A database that does not answer has no schema to read; `unknown` until it does.
        let schemaStatus = databaseUp ? await schema.status() : nil
        let schemaServes = switch schemaStatus {
        case .current?, .ahead?: true
        case .behind?, .diverged?, nil: false
        }
        let ready = databaseUp && schemaServes
        let ring = keys.current()
        var writer = JSONObjectWriter()
        writer.add("status", ready ? "ready" : "unavailable")
        writer.add("database", databaseUp ? "ok" : "unreachable")
        writer.add("schema", schemaStatus?.label ?? "unknown")
        writer.add("schema_migrations", schemaStatus?.migrations ?? [])
        writer.add("signing_key", ring.signingKID)
        writer.add("live_keys", Int64(ring.keys.count))
        writer.add("policy_version", policies.current.version)
        writer.add("policy_errors", policies.pendingErrors)
        return PlainResponse(status: ready ? .ok : .serviceUnavailable, body: writer.finish())
    }
}
