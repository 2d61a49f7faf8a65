import Foundation
import PortcullisCore
import Testing

@Suite struct StoreReadScopeTests {
    final class Source: Sendable {}

    /// Inside a scope each source is read once and its value reused; outside, every call reads;
    /// a second scope reads again.
    @Test func aScopeReadsEachSourceOnce() {
        let first = Source(), second = Source()
        var reads = 0
        func read() -> Int64 {
            reads += 1
            return Int64(reads)
        }
        #expect(StoreReadScope.reading(of: first, read) == 1)
        #expect(StoreReadScope.reading(of: first, read) == 2, "no scope: a reading per call")
        StoreReadScope.run {
            #expect(StoreReadScope.reading(of: first, read) == 3)
            #expect(StoreReadScope.reading(of: first, read) == 3, "the scope's reading")
            #expect(StoreReadScope.reading(of: second, read) == 4, "another source is read on its own")
            #expect(StoreReadScope.reading(of: second, read) == 4)
        }
        #expect(StoreReadScope.run { StoreReadScope.reading(of: first, read) } == 5, "the next scope reads again")
    }

    /// A task started inside a scope inherits it, but once the scope's request is over the task
    /// reads afresh instead of keeping the request's reading.
    @Test func aTaskStartedInAScopeReadsAfreshOnceTheScopeEnded() async {
        let source = Source()
        let counter = Counter()
        let late = StoreReadScope.run {
            _ = StoreReadScope.reading(of: source) { counter.next() }
            return Task {
                try? await Task.sleep(for: .milliseconds(20))
                return StoreReadScope.reading(of: source) { counter.next() }
            }
        }
        #expect(await late.value == 2)
    }

    /// A scope is its thread's alone: a lookup on another thread while it runs reads afresh, and
    /// a `run` nested in it shares its readings.
    @Test func aScopeIsNotSeenFromAnotherThreadAndANestedRunSharesIt() {
        let source = Source()
        let counter = Counter()
        StoreReadScope.run {
            #expect(StoreReadScope.reading(of: source) { counter.next() } == 1)
            let elsewhere = Readings()
            let done = DispatchSemaphore(value: 0)
            Thread {
                elsewhere.values.append(StoreReadScope.reading(of: source) { counter.next() })
                elsewhere.values.append(StoreReadScope.run { StoreReadScope.reading(of: source) { counter.next() } })
                done.signal()
            }.start()
            done.wait()
            #expect(elsewhere.values == [2, 3], "another thread reads for itself, in and out of its own scope")
            #expect(StoreReadScope.run { StoreReadScope.reading(of: source) { counter.next() } } == 1, "nested: the outer reading")
            #expect(StoreReadScope.reading(of: source) { counter.next() } == 1)
        }
        #expect(StoreReadScope.reading(of: source) { counter.next() } == 4, "after the scope: read again")
    }

    /// Written by one thread, read by another after a semaphore.
    final class Readings: @unchecked Sendable {
        var values: [Int64] = []
    }

    final class Counter: @unchecked Sendable {
        private var value: Int64 = 0
        func next() -> Int64 {
            value += 1
            return value
        }
    }
}
