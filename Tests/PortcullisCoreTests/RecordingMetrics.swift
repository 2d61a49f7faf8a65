import CoreMetrics
import Synchronization

/// Every counter and timer a `PortcullisMetrics` asks for, by label and dimensions
/// (`name{key=value}…`): how many handlers were made for each, the total of each counter
/// incremented at least once, and how many times each timer recorded. Each `make` hands out a new
/// handler, as a factory may. Recorders are ignored.
final class RecordingMetrics: MetricsFactory, Sendable {
    let made = Mutex<[String: Int]>([:])
    let counts = Mutex<[String: Int64]>([:])
    let timings = Mutex<[String: Int]>([:])

    final class Handler: CounterHandler, TimerHandler, Sendable {
        let key: String
        let owner: RecordingMetrics
        init(key: String, owner: RecordingMetrics) { self.key = key; self.owner = owner }
        func increment(by amount: Int64) { owner.counts.withLock { $0[key, default: 0] += amount } }
        func recordNanoseconds(_ duration: Int64) { owner.timings.withLock { $0[key, default: 0] += 1 } }
        func reset() {}
    }

    private func make(_ label: String, _ dimensions: [(String, String)]) -> Handler {
        let key = label + dimensions.map { "{\($0.0)=\($0.1)}" }.joined()
        made.withLock { $0[key, default: 0] += 1 }
        return Handler(key: key, owner: self)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { make(label, dimensions) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { make(label, dimensions) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
