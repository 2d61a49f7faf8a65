public import PortcullisCrypto

/// Finds the Argon2id parameters that take about a target time on this machine.
///
/// Memory first, as OWASP advises: with one lane and two passes (OWASP's floor is
/// m = 19 MiB, t = 2, p = 1) memory grows until the target is met or `maximumMemoryKiB`
/// is reached; only then do passes grow. Never returns less than the OWASP floor.
public struct Argon2Calibration: Sendable {
    /// What calibration settled on.
    public struct Result: Sendable, Equatable {
        /// The chosen parameters.
        public var parameters: Argon2Parameters
        /// Median milliseconds of one hash at `parameters`.
        public var milliseconds: Double
        /// Password checks per second one core sustains at `parameters`.
        public var loginsPerSecondPerCore: Double { milliseconds > 0 ? 1000 / milliseconds : 0 }
    }

    /// Milliseconds one hash takes with the given parameters.
    public typealias Measure = @Sendable (Argon2Parameters) throws -> Double

    let measure: Measure

    /// Calibrates with `measure`; the default hashes for real and times it.
    public init(measure: Measure? = nil) {
        self.measure = measure ?? Self.timedHash
    }

    /// Parameters taking about `targetMilliseconds`, with memory capped at `maximumMemoryKiB`.
    public func calibrate(targetMilliseconds: Double, maximumMemoryKiB: UInt32 = 262_144) throws -> Result {
        let floor = Argon2Parameters.owaspDefault
        var parameters = floor
        var milliseconds = try median(parameters)
        guard milliseconds < targetMilliseconds else { return Result(parameters: parameters, milliseconds: milliseconds) }
        // Time grows about linearly with memory: scale, then correct twice for what scaling missed.
        for _ in 0..<3 where abs(milliseconds - targetMilliseconds) > targetMilliseconds * 0.05 {
            let scaled = Double(parameters.memoryKiB) * targetMilliseconds / milliseconds
            let memory = UInt32(min(Double(maximumMemoryKiB), max(Double(floor.memoryKiB), scaled))) / 1024 * 1024
            guard memory != parameters.memoryKiB else { break }
            parameters.memoryKiB = max(floor.memoryKiB, memory)
            milliseconds = try median(parameters)
        }
        // Memory is capped: more passes make up the rest.
        if milliseconds < targetMilliseconds * 0.95, parameters.memoryKiB >= maximumMemoryKiB / 1024 * 1024 {
            let perPass = milliseconds / Double(parameters.iterations)
            parameters.iterations = UInt32(min(64, max(Double(parameters.iterations), (targetMilliseconds / perPass).rounded())))
            milliseconds = try median(parameters)
        }
        return Result(parameters: parameters, milliseconds: milliseconds)
    }

    private func median(_ parameters: Argon2Parameters) throws -> Double {
        let samples = try (0..<3).map { _ in try measure(parameters) }.sorted()
        return samples[1]
    }

    /// Hashes once at `parameters` and returns the wall-clock milliseconds.
    @Sendable static func timedHash(_ parameters: Argon2Parameters) throws -> Double {
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            _ = try Argon2id.hash(password: "calibration password", parameters: parameters)
        }
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
