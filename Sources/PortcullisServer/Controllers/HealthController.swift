import Foundation
public import Hummingbird
public import PortcullisCore
import PortcullisCrypto
import PortcullisPolicy

/// `/healthz`, `/readyz` and `/.well-known/jwks.json`.
public struct HealthController: Sendable {
    let store: any PortcullisStore
    let keys: KeyRingProvider
    let policies: PolicyProvider

    /// A controller reporting on `store`, `keys` and `policies`.
    public init(store: any PortcullisStore, keys: KeyRingProvider, policies: PolicyProvider) {
        self.store = store
        self.keys = keys
        self.policies = policies
    }

    /// Adds the routes to `router`.
    public func addRoutes(to router: Router<PortcullisRequestContext>) {
        router.get("/healthz") { _, _ in StatusResponse(status: "ok") }
        router.get("/readyz", use: ready)
        router.get("/.well-known/jwks.json", use: jwks)
    }

    struct StatusResponse: ResponseEncodable {
        let status: String
    }

    struct ReadinessResponse: ResponseEncodable {
        let status: String
        let database: String
        let signingKey: String
        let liveKeys: Int
        let policyVersion: String
        let policyErrors: [String]

        enum CodingKeys: String, CodingKey {
            case status, database
            case signingKey = "signing_key"
            case liveKeys = "live_keys"
            case policyVersion = "policy_version"
            case policyErrors = "policy_errors"
        }
    }

    @Sendable func ready(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let databaseUp = await store.isHealthy()
        let ring = keys.current()
        let body = ReadinessResponse(
            status: databaseUp ? "ready" : "unavailable", database: databaseUp ? "ok" : "unreachable",
            signingKey: ring.signingKID, liveKeys: ring.keys.count,
            policyVersion: policies.current.version, policyErrors: policies.pendingErrors)
        var response = try body.response(from: request, context: context)
        if !databaseUp { response.status = .serviceUnavailable }
        return response
    }

    @Sendable func jwks(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let data = try JSONEncoder().encode(try keys.current().jwks())
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
