import Foundation
public import Hummingbird
public import PortcullisCore
import PortcullisCrypto

/// `/healthz`, `/readyz` and `/.well-known/jwks.json`.
public struct HealthController: Sendable {
    let store: any PortcullisStore
    let keys: KeyRingProvider

    /// A controller reporting on `store` and `keys`.
    public init(store: any PortcullisStore, keys: KeyRingProvider) {
        self.store = store
        self.keys = keys
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

        enum CodingKeys: String, CodingKey {
            case status, database
            case signingKey = "signing_key"
            case liveKeys = "live_keys"
        }
    }

    @Sendable func ready(_ request: Request, context: PortcullisRequestContext) async throws -> Response {
        let databaseUp = await store.isHealthy()
        let ring = keys.current()
        let body = ReadinessResponse(
            status: databaseUp ? "ready" : "unavailable", database: databaseUp ? "ok" : "unreachable",
            signingKey: ring.signingKID, liveKeys: ring.keys.count)
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
