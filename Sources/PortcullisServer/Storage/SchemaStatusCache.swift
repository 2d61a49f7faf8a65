package import PortcullisCore
import Synchronization

/// The store's schema status for `/readyz`, read at most once per `maxAge`: load balancers poll
/// readiness every second or two on every replica, and the schema only changes when a release
/// migrates, so a few seconds' delay in noticing is the price of not reading it at every probe.
package final class SchemaStatusCache: Sendable {
    /// How long an answer is reused.
    package static let defaultMaxAge: Duration = .seconds(5)

    private let store: any SchemaStatusStore
    private let maxAge: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let cached = Mutex<(status: SchemaStatus, readAt: ContinuousClock.Instant)?>(nil)

    package init(store: any SchemaStatusStore, maxAge: Duration = defaultMaxAge, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.store = store
        self.maxAge = maxAge
        self.now = now
    }

    /// The status, at most `maxAge` old; nil when the store cannot say. A failure is not cached,
    /// so the first probe after the database returns reads it again.
    package func status() async -> SchemaStatus? {
        let asked = now()
        if let hit = cached.withLock({ $0 }), asked - hit.readAt < maxAge { return hit.status }
        guard let status = try? await store.schemaStatus() else { return nil }
        cached.withLock { $0 = (status, asked) }
        return status
    }
}
