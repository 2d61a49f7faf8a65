import NIOPosix
public import PortcullisCrypto
import Synchronization

/// Argon2id hashing off the event loop, bounded to the core count.
///
/// Work runs on NIO's shared blocking pool (one thread per core), so at most that
/// many hashes run at once and the rest queue; the event loops never block.
public final class PasswordHasher: Sendable {
    /// Cost for new hashes; stored hashes weaker than this are upgraded at login.
    public let parameters: Argon2Parameters
    private let dummyHash: String
    private let queued = Atomic<Int>(0)

    /// Creates a hasher; computes one dummy hash so unknown users cost the same as known ones.
    public init(parameters: Argon2Parameters) throws {
        self.parameters = parameters
        self.dummyHash = try Argon2id.hash(password: SecureRandom.token(byteCount: 16), parameters: parameters)
    }

    /// Requests waiting for or running on the hashing pool.
    public var queueDepth: Int { queued.load(ordering: .relaxed) }

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
        queued.add(1, ordering: .relaxed)
        defer { queued.subtract(1, ordering: .relaxed) }
        return try await NIOThreadPool.singleton.runIfActive(work)
    }
}
