import Foundation
import Hummingbird
import HummingbirdTesting
import PortcullisCore
@testable import PortcullisServer
import Synchronization
import Testing

@Suite struct LoadSheddingTests {
    @Test func requestsBeyondTheCapGet503WithRetryAfterAndTheCapFreesUp() async throws {
        let router = Router(context: PortcullisRequestContext.self)
        router.add(middleware: LoadSheddingMiddleware(limit: 2, timeout: .seconds(30)))
        router.get("/slow") { _, _ in
            try await Task.sleep(for: .seconds(1))
            return "done"
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let response = try await client.execute(uri: "/slow", method: .get, headers: [:], body: nil)
                        return (response.status, response.headers[.retryAfter])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == .ok }.count == 2)
            #expect(statuses.filter { $0.0 == .serviceUnavailable && $0.1 == "1" }.count == 4)
            // Once the two finished, capacity is back.
            #expect(try await client.execute(uri: "/slow", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    @Test func aRequestOverItsTimeIsAnswered503AndItsHandlerCancelled() async throws {
        let router = Router(context: PortcullisRequestContext.self)
        router.add(middleware: LoadSheddingMiddleware(limit: 10, timeout: .milliseconds(300)))
        let finished = FinishedFlag()
        let handlerStarted = StartInstant()
        router.get("/hang") { _, _ in
            handlerStarted.set()
            try await Task.sleep(for: .seconds(60))
            finished.set()
            return "too late"
        }
        router.get("/quick") { _, _ in "quick" }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/hang", method: .get, headers: [:], body: nil)
            #expect(response.status == .serviceUnavailable)
            // Timed from the handler's start (how long the request waited for a thread is the
            // suite's load, not this rule), and generous: the suite runs in parallel on two cores.
            let started = try #require(handlerStarted.value)
            #expect(ContinuousClock.now - started < .seconds(30), "answered long before the 60 s handler would have finished")
            #expect(!finished.value, "the handler was cancelled, not left running")
            #expect(try await client.execute(uri: "/quick", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    @Test func theCapAndIdleTimeoutAreConfigurable() throws {
        var configuration = PortcullisConfiguration()
        try configuration.apply(environment: ["PORTCULLIS_MAX_CONCURRENT_REQUESTS": "64", "PORTCULLIS_IDLE_TIMEOUT": "5", "PORTCULLIS_REQUEST_TIMEOUT": "7"])
        #expect(configuration.maxConcurrentRequests == 64 && configuration.idleTimeout == 5 && configuration.requestTimeout == 7)
        #expect(throws: PortcullisError.self) { try configuration.apply(environment: ["PORTCULLIS_MAX_CONCURRENT_REQUESTS": "0"]) }
    }
}

final class FinishedFlag: Sendable {
    private let flag = Mutex(false)
    var value: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

/// When a handler started, once it has.
final class StartInstant: Sendable {
    private let instant = Mutex<ContinuousClock.Instant?>(nil)
    var value: ContinuousClock.Instant? { instant.withLock { $0 } }
    func set() { instant.withLock { $0 = .now } }
}

@Suite struct RequestDeadlinesTests {
    @Test func aTaskPastItsDeadlineIsCancelledAndItsTicketSaysSo() async throws {
        let deadlines = RequestDeadlines(tick: .milliseconds(10))
        let late = await Task {
            let ticket = withUnsafeCurrentTask { deadlines.register($0!, deadline: .now + .milliseconds(30)) }
            try? await Task.sleep(for: .seconds(30))
            return (Task.isCancelled, deadlines.finish(ticket))
        }.value
        #expect(late.0 && late.1, "cancelled by the watchdog, and finish reports it")
        let onTime = await Task {
            let ticket = withUnsafeCurrentTask { deadlines.register($0!, deadline: .now + .seconds(30)) }
            try? await Task.sleep(for: .milliseconds(50))
            return (Task.isCancelled, deadlines.finish(ticket))
        }.value
        #expect(!onTime.0 && !onTime.1, "a request within its time is left alone")
    }
}
