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

    final class Counter: @unchecked Sendable {
        private var value: Int64 = 0
        func next() -> Int64 {
            value += 1
            return value
        }
    }
}
