import Foundation
import Hummingbird
import PortcullisCore
import PortcullisPolicy
import Prometheus

/// What operators and tooling read (`/healthz`, the process answers, is a hot route): `/readyz` (database, schema,
/// keys, policy), `/metrics` (Prometheus text) and `/openapi.yaml` (the API description).
package struct OperationsController: Sendable {
    let store: any PortcullisStore
    let schema: SchemaStatusCache
    let keys: any KeyRingSource
    let policies: PolicyProvider
    let metricsRegistry: PrometheusCollectorRegistry

    init(store: any PortcullisStore, keys: any KeyRingSource, policies: PolicyProvider, metricsRegistry: PrometheusCollectorRegistry) {
        self.store = store
        self.schema = SchemaStatusCache(store: store)
        self.keys = keys
        self.policies = policies
        self.metricsRegistry = metricsRegistry
    }

    /// The three routes.
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.get("/readyz", use: ready)
        routes.get("/metrics", use: metrics)
        routes.get("/openapi.yaml", use: openAPI)
        return routes
    }

    struct ReadinessResponse: ResponseEncodable {
        let status: String
        let database: String
        let schema: String
        let schemaMigrations: [String]
        let signingKey: String
        let liveKeys: Int
        let policyVersion: String
        let policyErrors: [String]

        enum CodingKeys: String, CodingKey {
            case status, database, schema
            case schemaMigrations = "schema_migrations"
            case signingKey = "signing_key"
            case liveKeys = "live_keys"
            case policyVersion = "policy_version"
            case policyErrors = "policy_errors"
        }
    }

    /// Ready when the database answers and holds every migration of this binary (read at most every
    /// few seconds: see `SchemaStatusCache`). A schema a newer release migrated further (`ahead`)
    /// stays ready: migrations are append-only and additive, so an older replica keeps serving
    /// through a rolling upgrade. The key ring and policy are reported beside them.
    @Sendable func ready(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let databaseUp = await store.isHealthy()
        // A database that does not answer has no schema to read; `unknown` until it does.
        let schemaStatus = databaseUp ? await schema.status() : nil
        let schemaServes = switch schemaStatus {
        case .current?, .ahead?: true
        case .behind?, .diverged?, nil: false
        }
        let ready = databaseUp && schemaServes
        let ring = keys.current()
        let body = ReadinessResponse(
            status: ready ? "ready" : "unavailable", database: databaseUp ? "ok" : "unreachable",
            schema: schemaStatus?.label ?? "unknown", schemaMigrations: schemaStatus?.migrations ?? [],
            signingKey: ring.signingKID, liveKeys: ring.keys.count,
            policyVersion: policies.current.version, policyErrors: policies.pendingErrors)
        var response = try body.response(from: request, context: context)
        if !ready { response.status = .serviceUnavailable }
        return response
    }

    @Sendable func metrics(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: metricsRegistry.emitToBuffer())))
    }

    @Sendable func openAPI(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml", .cacheControl: "public, max-age=300"],
                 body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
    }
}
