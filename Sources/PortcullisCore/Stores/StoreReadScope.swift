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
/// A scope belongs to the thread that runs `run` and holds readings only during `body`; a task
/// started inside `body` inherits it but reads afresh once `run` has returned. It is never used
/// by two threads at once, which is what its `@unchecked Sendable` promises.
public final class StoreReadScope: @unchecked Sendable {
    @TaskLocal static var current: StoreReadScope?

    private var readings: [(source: ObjectIdentifier, value: Int64)] = []
    /// Set when `run` returns: a task started inside `body` inherits the scope, and must not
    /// keep its reading after the request.
    private var ended = false

    private init() {}

    /// Runs `body` (synchronous, on this thread) with one change reading per source.
    public static func run<T>(_ body: () throws -> T) rethrows -> T {
        let scope = StoreReadScope()
        defer { scope.ended = true }
        return try $current.withValue(scope) { try body() }
    }

    /// The change counter of `source`: read once per scope (by `read`), or read now when no
    /// scope is running.
    public static func reading(of source: AnyObject, _ read: () throws -> Int64) rethrows -> Int64 {
        guard let scope = current, !scope.ended else { return try read() }
        let id = ObjectIdentifier(source)
        if let known = scope.readings.first(where: { $0.source == id }) { return known.value }
        let value = try read()
        scope.readings.append((id, value))
        return value
    }
}
