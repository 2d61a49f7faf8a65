#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One request's immediate store lookups answered from one reading of "has the database
/// changed since" (SQLite's WAL-index header, or `PRAGMA data_version`), instead of one reading
/// per lookup.
///
/// An introspection asks three in-memory answers (the address's lockout, the client, the
/// token's liveness), and each asked the database whether it had changed. Inside `run`, the
/// first lookup reads that and the others reuse its value, so the request's lookups are all as
/// fresh as its first one — which began after the request arrived, so a change committed
/// before the request (a revocation, a deleted client, a locked address) is still seen by it.
/// A store without such a counter ignores the scope.
///
/// The scope belongs to the thread that runs `run` (one object per thread, reused from request
/// to request) and holds readings only while `body` runs: `body` is synchronous, so nothing else
/// runs on that thread meanwhile, and code running later on it, or on any other thread, reads
/// afresh. A task-local did the same with three allocations and a push per request, on every
/// hot answer. It is never used by two threads at once, which is what its `@unchecked Sendable`
/// promises.
public final class StoreReadScope: @unchecked Sendable {
    private var readings: [(source: ObjectIdentifier, value: Int64)] = []
    private var active = false

    private init() {
        readings.reserveCapacity(4)
    }

    /// The calling thread's scope, made at its first use and released when the thread exits.
    private static let perThread: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { scope in
            #if canImport(Darwin)
            Unmanaged<StoreReadScope>.fromOpaque(scope).release()
            #else
            if let scope { Unmanaged<StoreReadScope>.fromOpaque(scope).release() }
            #endif
        }
        precondition(created == 0, "pthread_key_create failed: \(created)")
        return key
    }()

    private static func ofThisThread() -> StoreReadScope {
        if let existing = pthread_getspecific(perThread) {
            return Unmanaged<StoreReadScope>.fromOpaque(existing).takeUnretainedValue()
        }
        let scope = StoreReadScope()
        pthread_setspecific(perThread, Unmanaged.passRetained(scope).toOpaque())
        return scope
    }

    /// Runs `body` (synchronous, on this thread) with one change reading per source. Nested in
    /// another `run` on the same thread, `body` shares the outer scope's readings.
    public static func run<T>(_ body: () throws -> T) rethrows -> T {
        let scope = ofThisThread()
        guard !scope.active else { return try body() }
        scope.active = true
        defer {
            scope.active = false
            scope.readings.removeAll(keepingCapacity: true)
        }
        return try body()
    }

    /// The change counter of `source`: read once per scope (by `read`), or read now when no
    /// scope is running on this thread.
    public static func reading(of source: AnyObject, _ read: () throws -> Int64) rethrows -> Int64 {
        guard let existing = pthread_getspecific(perThread) else { return try read() }
        let scope = Unmanaged<StoreReadScope>.fromOpaque(existing).takeUnretainedValue()
        guard scope.active else { return try read() }
        let id = ObjectIdentifier(source)
        if let known = scope.readings.first(where: { $0.source == id }) { return known.value }
        let value = try read()
        scope.readings.append((id, value))
        return value
    }
}
