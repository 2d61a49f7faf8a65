import Synchronization

/// The deadlines of the requests in flight, and one watchdog task that cancels those past theirs.
///
/// The watchdog runs only while requests are in flight (it stops when none are left), and
/// wakes every `tick`, so a request is cancelled at most one tick after its deadline.
package final class RequestDeadlines: Sendable {
    /// A request's running task; used only while its entry is registered (under the lock).
    private struct Entry: @unchecked Sendable {
        let deadline: ContinuousClock.Instant
        let task: UnsafeCurrentTask
        var expired = false
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextTicket: UInt64 = 0
        var watching = false
    }

    private let state = Mutex(State())
    let tick: Duration

    package init(tick: Duration = .milliseconds(100)) {
        self.tick = tick
    }

    /// Registers the calling task until `finish`; returns its ticket.
    func register(_ task: UnsafeCurrentTask, deadline: ContinuousClock.Instant) -> UInt64 {
        nonisolated(unsafe) let task = task
        let (ticket, startWatching) = state.withLock { state in
            let ticket = state.nextTicket
            state.nextTicket &+= 1
            state.entries[ticket] = Entry(deadline: deadline, task: task)
            defer { state.watching = true }
            return (ticket, !state.watching)
        }
        if startWatching {
            Task.detached { [self] in await watch() }
        }
        return ticket
    }

    /// Runs `body` in the calling task, which is cancelled at `deadline`; nil when the deadline
    /// passed (whatever `body` returned or threw). The calling task must be the request's own:
    /// cancelling it must stop nothing else.
    func run<Value>(until deadline: ContinuousClock.Instant, _ body: () async throws -> Value) async rethrows -> Value? {
        let ticket = withUnsafeCurrentTask { register($0!, deadline: deadline) }
        do {
            let value = try await body()
            return finish(ticket) ? nil : value
        } catch {
            if finish(ticket) { return nil }
            throw error
        }
    }

    /// Unregisters a ticket; true when its deadline passed and its task was cancelled.
    func finish(_ ticket: UInt64) -> Bool {
        state.withLock { $0.entries.removeValue(forKey: ticket)?.expired ?? false }
    }

    private func watch() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let keepWatching = state.withLock { state -> Bool in
                for (ticket, entry) in state.entries where !entry.expired && entry.deadline <= now {
                    entry.task.cancel()
                    state.entries[ticket]?.expired = true
                }
                if state.entries.isEmpty {
                    state.watching = false
                    return false
                }
                return true
            }
            if !keepWatching { return }
        }
    }
}
