import Foundation
import Hummingbird
import PortcullisCore
import PortcullisPolicy
import Prometheus

/// What operators and tooling read beside the probes (`/healthz` and `/readyz` are hot routes:
/// `HotRoutes`, `Readiness`): `/metrics` (Prometheus text) and `/openapi.yaml` (the API description).
package struct OperationsController: Sendable {
    let metricsRegistry: PrometheusCollectorRegistry

    init(metricsRegistry: PrometheusCollectorRegistry) {
        self.metricsRegistry = metricsRegistry
    }

    /// The two routes.
    var endpoints: RouteCollection<PortcullisRequestContext> {
        let routes = RouteCollection(context: PortcullisRequestContext.self)
        routes.get("/metrics", use: metrics)
        routes.get("/openapi.yaml", use: openAPI)
        return routes
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
