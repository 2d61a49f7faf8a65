import Foundation
import GRDB
import Synchronization

/// A few read-only connections used synchronously, on the calling thread, for the lookups every
/// token check makes (three indexed rows, a few microseconds).
///
/// GRDB's async read costs a hop to a reader queue and back, which measured about 75 µs of
/// CPU per request, more than the lookups. The pool's own synchronous read cannot be used from
/// Swift concurrency: when every cooperative thread waits for a reader while the pool's readers
/// are held by async reads that need a cooperative thread to finish, the server deadlocks (seen
/// under `make bench`). These connections belong to nobody else, are held only for the length of
/// one synchronous block, and never await, so waiting for one is bounded by another's lookup.
/// Callers run one SELECT per block, which SQLite makes its own transaction, so it sees every
/// write committed before it began; no explicit transaction is opened (that cost more than the query).
final class HotReaders: Sendable {
    private let queues: [DatabaseQueue]
    private let next = Atomic<Int>(0)

    init(path: String, count: Int) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        queues = try (0..<count).map { _ in try DatabaseQueue(path: path, configuration: configuration) }
    }

    /// Runs `block`, which must issue a single statement, on one of the connections (round robin).
    func read<T>(_ block: (Database) throws -> T) throws -> T {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        return try queues[index % queues.count].inDatabase(block)
    }
}
