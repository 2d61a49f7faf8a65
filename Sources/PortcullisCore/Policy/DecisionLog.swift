public import Foundation
import Synchronization

/// One logged decision, enough to replay it against another policy.
public struct DecisionRecord: Sendable, Equatable, Codable {
    /// When it was decided.
    public var at: Date
    /// Username or client id.
    public var subject: String
    /// The database grants at that time (static bindings come from the policy replayed against).
    public var grantedRoles: [String]
    /// Action asked about.
    public var action: String
    /// Resource asked about.
    public var resource: String
    /// The answer.
    public var allowed: Bool
    /// The deciding rule's FILE:LINE, if any.
    public var rule: String?
    /// Version of the policy that decided.
    public var policyVersion: String

    /// Creates a record.
    public init(at: Date, subject: String, grantedRoles: [String], action: String, resource: String, allowed: Bool, rule: String?, policyVersion: String) {
        self.at = at
        self.subject = subject
        self.grantedRoles = grantedRoles
        self.action = action
        self.resource = resource
        self.allowed = allowed
        self.rule = rule
        self.policyVersion = policyVersion
    }
}

/// Buffers decisions in memory and writes them in batches, so a decision never waits for a disk write.
///
/// Bounded twice: the buffer drops the oldest entries past `capacity`, and the store keeps only the
/// newest `capacity` rows. A crash can lose the last unflushed batch (at most one flush interval).
public final class DecisionLog: Sendable {
    /// Most decisions kept.
    public let capacity: Int
    private let buffer = Mutex<[DecisionRecord]>([])
    private let store: any DecisionLogStore

    /// A log of at most `capacity` decisions in `store`.
    public init(store: any DecisionLogStore, capacity: Int) {
        self.store = store
        self.capacity = max(1, capacity)
    }

    /// Queues one decision; never blocks on I/O.
    ///
    /// The buffer is trimmed to `capacity` only when it reaches twice that, so that recording stays
    /// O(1) when the store falls behind (trimming at every append moved the whole buffer each time);
    /// `flush` writes only the newest `capacity`.
    public func record(_ record: DecisionRecord) {
        buffer.withLock { pending in
            pending.append(record)
            if pending.count >= 2 * capacity { pending.removeFirst(pending.count - capacity) }
        }
    }

    /// Writes everything queued (the newest `capacity` of it); returns how many.
    @discardableResult
    public func flush() async throws -> Int {
        let capacity = self.capacity
        let batch = buffer.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending.count > capacity ? Array(pending.suffix(capacity)) : pending
        }
        guard !batch.isEmpty else { return 0 }
        do {
            try await store.appendDecisions(batch, capacity: capacity)
        } catch {
            // Put the batch back in front of anything recorded meanwhile, so a failed write loses nothing.
            buffer.withLock { pending in
                pending.insert(contentsOf: batch, at: 0)
                if pending.count > capacity { pending.removeFirst(pending.count - capacity) }
            }
            throw error
        }
        return batch.count
    }

    /// Flushes every `interval` until cancelled, then once more.
    ///
    /// The last flush runs outside the cancelled task: the store refuses work from a cancelled task.
    public func run(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            _ = try? await flush()
        }
        await Task.detached { [self] in _ = try? await self.flush() }.value
    }
}

/// A logged decision that another policy would answer differently.
public struct DecisionFlip: Sendable, Equatable, Codable {
    /// The logged decision.
    public var record: DecisionRecord
    /// The candidate policy's answer.
    public var candidateAllowed: Bool
    /// The candidate policy's reason.
    public var candidateReason: String
}
