import Synchronization
import Testing
@testable import PortcullisPostgres

/// `ReadBatcher` without a database: a `run` that records the batches it is given and can be held.
@Suite struct ReadBatcherTests {
    /// Records batches and runs at most `open` of them to completion until released.
    final class Recorder: Sendable {
        struct State {
            var batches: [[Int]] = []
            var running = 0
            var mostRunning = 0
        }
        let state = Mutex(State())
        let gate = AsyncGate()

        func run(_ questions: [Int]) async throws -> [String] {
            state.withLock { state in
                state.batches.append(questions)
                state.running += 1
                state.mostRunning = max(state.mostRunning, state.running)
            }
            await gate.wait()
            state.withLock { $0.running -= 1 }
            if questions.contains(-1) { throw Refused() }
            return questions.map { "answer \($0)" }
        }
    }

    struct Refused: Error {}

    @Test func concurrentReadsShareBatchesAndEachGetsItsOwnAnswer() async throws {
        let batcher = ReadBatcher<Int, String>(maxInFlight: 2)
        let recorder = Recorder()
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for question in 0..<200 {
                group.addTask { (question, try await batcher.answer(question, run: recorder.run)) }
            }
            // Hold the first batches until every read has queued behind them.
            try await opening(recorder.gate) {
                try await waitUntil { recorder.state.withLock { $0.batches.flatMap { $0 }.count } >= 2 && batcher.queuedCount >= 198 - 2 }
            }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 200)
        #expect(answers.allSatisfy { question, answer in answer == "answer \(question)" })
        let batches = recorder.state.withLock { $0.batches }
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<200), "every question asked exactly once")
        #expect(batches.count < 10, "reads queued behind a running batch share the next one: \(batches.map(\.count))")
        #expect(recorder.state.withLock { $0.mostRunning } <= 2)
    }

    @Test func aReadQueuedWhileItsBatchRunsWaitsForTheNextBatch() async throws {
        // Consistency: a running statement never answers a read that arrived after it started.
        let batcher = ReadBatcher<Int, String>(maxInFlight: 1)
        let recorder = Recorder()
        async let first = batcher.answer(1, run: recorder.run)
        let second = Mutex<Task<String, any Error>?>(nil)
        try await opening(recorder.gate) {
            try await waitUntil { recorder.state.withLock { $0.running } == 1 }
            second.withLock { $0 = Task { try await batcher.answer(2, run: recorder.run) } }
            try await waitUntil { batcher.queuedCount == 1 }
        }
        #expect(try await first == "answer 1")
        #expect(try await second.withLock { $0 }?.value == "answer 2")
        #expect(recorder.state.withLock { $0.batches } == [[1], [2]])
    }

    @Test func aFailedBatchFailsOnlyItsOwnReads() async throws {
        let batcher = ReadBatcher<Int, String>(maxInFlight: 1)
        let recorder = Recorder()
        await recorder.gate.open()
        await #expect(throws: Refused.self) { try await batcher.answer(-1, run: recorder.run) }
        #expect(try await batcher.answer(5, run: recorder.run) == "answer 5")
    }

    @Test func aRunThatAnswersTheWrongNumberOfQuestionsFailsEveryRead() async throws {
        let batcher = ReadBatcher<Int, String>(maxInFlight: 1)
        await #expect(throws: BatchMismatch.self) { try await batcher.answer(1) { _ in [] } }
        await #expect(throws: BatchMismatch.self) { try await batcher.answer(1) { _ in ["a", "b"] } }
        #expect(try await batcher.answer(1) { $0.map(String.init) } == "1", "the batcher still works")
    }

    @Test func batchesAreCappedAtMaxBatch() async throws {
        let batcher = ReadBatcher<Int, String>(maxInFlight: 1, maxBatch: 8)
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for question in 0..<40 { group.addTask { _ = try await batcher.answer(question, run: recorder.run) } }
            try await opening(recorder.gate) { try await waitUntil { batcher.queuedCount == 39 } }
            try await group.waitForAll()
        }
        let sizes = recorder.state.withLock { $0.batches.map(\.count) }
        #expect(sizes == [1, 8, 8, 8, 8, 7], "the first read alone, then the 39 queued behind it in batches of at most 8")
    }

    @Test func rowsArePutBackInQuestionOrderAndBadRowSetsAreRefused() throws {
        #expect(try inQuestionOrder([(2, "b"), (1, "a"), (3, "c")], count: 3) == ["a", "b", "c"])
        #expect(throws: BatchMismatch.self) { try inQuestionOrder([(1, "a"), (1, "a")], count: 2) }
        #expect(throws: BatchMismatch.self) { try inQuestionOrder([(1, "a")], count: 2) }
        #expect(throws: BatchMismatch.self) { try inQuestionOrder([(0, "a")], count: 1) }
        #expect(throws: BatchMismatch.self) { try inQuestionOrder([(1, "a"), (2, "b")], count: 1) }
    }
}

/// Closed until opened, then open for good.
actor AsyncGate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

/// Runs `body`, then opens `gate` whether or not it threw: a read held at the gate must never
/// outlive a failed wait (the test would hang instead of failing).
func opening(_ gate: AsyncGate, _ body: () async throws -> Void) async throws {
    do { try await body() } catch {
        await gate.open()
        throw error
    }
    await gate.open()
}

/// Polls `condition` for up to a minute (the whole suite runs in parallel on two cores).
func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut() }
        try await Task.sleep(for: .milliseconds(2))
    }
}

struct WaitTimedOut: Error {}
