import PostgresNIO
import Synchronization

/// Coalesces concurrent reads of one kind into one statement. A read that finds fewer than
/// `maxInFlight` batches running starts one with everything queued; otherwise it waits for the
/// next, which starts as soon as a running one finishes. Idle, a read is a batch of one; under
/// load, one round trip answers many requests.
///
/// Consistency is unchanged from one statement per read: a batch is taken from the queue only
/// after every read in it was queued, and its statement starts after that, so it sees every
/// write committed before any of its reads began. A running batch is never joined.
final class ReadBatcher<Question: Sendable, Answer: Sendable>: Sendable {
    private typealias Waiter = (question: Question, continuation: CheckedContinuation<Answer, any Error>)
    /// Answers a batch of questions, one answer per question, in order.
    typealias Run = @Sendable ([Question]) async throws -> [Answer]

    private struct State: ~Copyable {
        var queued: [Waiter] = []
        var inFlight = 0
    }

    private let state = Mutex(State())
    /// Batches running at once (each holds one pooled connection while it runs).
    let maxInFlight: Int
    /// Questions in one statement.
    let maxBatch: Int

    init(maxInFlight: Int, maxBatch: Int = 256) {
        precondition(maxInFlight > 0 && maxBatch > 0)
        self.maxInFlight = maxInFlight
        self.maxBatch = maxBatch
    }

    /// Reads waiting for a batch (not those in a running one).
    var queuedCount: Int { state.withLock { $0.queued.count } }

    /// The answer to `question`, read by `run` together with whatever else is queued. Every
    /// caller passes the same `run` (the batcher belongs to one statement).
    func answer(_ question: Question, run: @escaping Run) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            let batch: [Waiter]? = state.withLock { state in
                state.queued.append((question, continuation))
                guard state.inFlight < maxInFlight else { return nil }
                state.inFlight += 1
                return Self.take(&state, upTo: maxBatch)
            }
            if let batch {
                Task { await self.drain(first: batch, run: run) }
            }
        }
    }

    /// Runs `first`, then every batch queued meanwhile, until the queue is empty.
    private func drain(first: [Waiter], run: Run) async {
        var batch = first
        while true {
            await Self.execute(batch, run: run)
            let next: [Waiter]? = state.withLock { state in
                if state.queued.isEmpty {
                    state.inFlight -= 1
                    return nil
                }
                return Self.take(&state, upTo: maxBatch)
            }
            guard let next else { return }
            batch = next
        }
    }

    private static func take(_ state: inout State, upTo limit: Int) -> [Waiter] {
        if state.queued.count <= limit {
            defer { state.queued.removeAll(keepingCapacity: true) }
            return state.queued
        }
        let batch = Array(state.queued.prefix(limit))
        state.queued.removeFirst(limit)
        return batch
    }

    private static func execute(_ batch: [Waiter], run: Run) async {
        do {
            let answers = try await run(batch.map(\.question))
            guard answers.count == batch.count else {
                throw BatchMismatch(asked: batch.count, answered: answers.count)
            }
            for (waiter, answer) in zip(batch, answers) { waiter.continuation.resume(returning: answer) }
        } catch {
            for waiter in batch { waiter.continuation.resume(throwing: error) }
        }
    }
}

/// A batched statement answered a different number of questions than it was asked.
struct BatchMismatch: Error, CustomStringConvertible {
    let asked: Int
    let answered: Int
    var description: String { "a batched read answered \(answered) of \(asked) questions" }
}

/// The answers of a batched statement in question order, from rows that carry each question's
/// 1-based position (`WITH ORDINALITY`); every question must have exactly one row.
func inQuestionOrder<Answer>(_ rows: [(index: Int64, answer: Answer)], count: Int) throws -> [Answer] {
    var answers = [Answer?](repeating: nil, count: count)
    for row in rows {
        let slot = Int(row.index) - 1
        guard answers.indices.contains(slot), answers[slot] == nil else { throw BatchMismatch(asked: count, answered: rows.count) }
        answers[slot] = row.answer
    }
    let found = answers.compactMap { $0 }
    guard found.count == count else { throw BatchMismatch(asked: count, answered: found.count) }
    return found
}

/// A prepared statement over a batch of text keys bound as one array (`$1::text[]`), its rows
/// carrying each key's 1-based position.
protocol BatchedKeysStatement: PostgresPreparedStatement {
    /// The keys, bound to `$1`.
    var keys: [String] { get }
}

extension BatchedKeysStatement {
    static var bindingDataTypes: [PostgresDataType] { [.textArray] }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(keys)
        return bindings
    }
}
