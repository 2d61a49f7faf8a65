import NIOCore
import NIOPosix
public import PortcullisCrypto
import Synchronization

/// Argon2id hashing off the event loop, bounded to the core count.
///
/// Work runs on a dedicated pool of one thread per core, shared by every hasher in the
/// process: at most that many hashes run at once, the rest queue, and neither the event
/// loops nor NIO's shared blocking pool (file I/O) ever wait behind a hash.
public final class PasswordHasher: Sendable {
    /// Cost for new hashes; stored hashes weaker than this are upgraded at login.
    public let parameters: Argon2Parameters
    private let dummyHash: String
    private let queued = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private let observer = Mutex<PortcullisMetrics?>(nil)

    /// One thread per core for the life of the process.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: System.coreCount)
        pool.start()
        return pool
    }()

    /// Creates a hasher; computes one dummy hash so unknown users cost the same as known ones.
    public init(parameters: Argon2Parameters) throws {
        self.parameters = parameters
        self.dummyHash = try Argon2id.hash(password: SecureRandom.token(byteCount: 16), parameters: parameters)
    }

    /// Reports queue depth and wait time to `metrics` from now on.
    public func report(to metrics: PortcullisMetrics) {
        observer.withLock { $0 = metrics }
    }

    /// Requests waiting for or running on the hashing pool.
    public var queueDepth: Int { queued.load(ordering: .relaxed) }

    /// Hashes and verifications this hasher has finished (dummy ones included).
    public var completedOperations: Int { completed.load(ordering: .relaxed) }

    /// Threads that hash at once: the core count.
    public static var concurrencyLimit: Int { pool.numberOfThreads }

    /// Hashes a new password with the configured cost.
    public func hash(_ password: String) async throws -> String {
        let parameters = self.parameters
        return try await offload { try Argon2id.hash(password: password, parameters: parameters) }
    }

    /// Checks a password against a stored hash.
    public func verify(_ password: String, against encoded: String) async throws -> Bool {
        try await offload { Argon2id.verify(password: password, encoded: encoded) }
    }

    /// Spends the same work as `verify` for a user that does not exist; always false.
    public func verifyUnknownUser(_ password: String) async throws -> Bool {
        _ = try await verify(password, against: dummyHash)
        return false
    }

    /// True when `encoded` is weaker than the configured cost.
    public func needsRehash(_ encoded: String) -> Bool {
        Argon2id.needsRehash(encoded: encoded, target: parameters)
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let metrics = observer.withLock { $0 }
        let depth = queued.add(1, ordering: .relaxed).newValue
        metrics?.argon2QueueDepth(depth)
        defer {
            let after = queued.subtract(1, ordering: .relaxed).newValue
            completed.add(1, ordering: .relaxed)
            metrics?.argon2QueueDepth(after)
        }
        let enqueued = ContinuousClock.now
        return try await Self.pool.runIfActive {
            metrics?.argon2Wait(ContinuousClock.now - enqueued)
            return try work()
        }
    }
}
