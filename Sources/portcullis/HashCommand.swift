import ArgumentParser
import Foundation
import PortcullisCore
import PortcullisCrypto

/// `portcullis hash calibrate`: Argon2id parameters sized to this machine.
struct HashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash", abstract: "Password-hash tools.", subcommands: [Calibrate.self])

    struct Calibrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure this machine and print the Argon2id parameters that take about N ms.",
            discussion: """
                Memory grows first (OWASP's advice), from OWASP's floor m=19 MiB, t=2, p=1, up to \
                --max-memory-mib; passes grow only after that. Prints the settings to use and the \
                logins/s one core sustains with them.
                """)

        @Option(name: .customLong("target-ms"), help: "Milliseconds one hash should take (10-10000).")
        var targetMilliseconds: Int

        @Option(name: .customLong("max-memory-mib"), help: "Most memory one hash may use, in MiB (19-1024).")
        var maximumMemoryMiB: Int = 256

        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard (10...10_000).contains(targetMilliseconds) else {
                throw ValidationError("--target-ms must be between 10 and 10000")
            }
            guard (19...1024).contains(maximumMemoryMiB) else {
                throw ValidationError("--max-memory-mib must be between 19 and 1024")
            }
        }

        struct Output: Encodable {
            let memoryKiB: UInt32
            let iterations: UInt32
            let parallelism: UInt32
            let milliseconds: Double
            let loginsPerSecondPerCore: Double
            enum CodingKeys: String, CodingKey {
                case memoryKiB = "memory_kib", iterations, parallelism, milliseconds
                case loginsPerSecondPerCore = "logins_per_second_per_core"
            }
        }

        func run() async throws {
            let result = try Argon2Calibration().calibrate(
                targetMilliseconds: Double(targetMilliseconds), maximumMemoryKiB: UInt32(maximumMemoryMiB) * 1024)
            let parameters = result.parameters
            if options.json {
                try printJSON(Output(
                    memoryKiB: parameters.memoryKiB, iterations: parameters.iterations, parallelism: parameters.parallelism,
                    milliseconds: (result.milliseconds * 10).rounded() / 10,
                    loginsPerSecondPerCore: (result.loginsPerSecondPerCore * 10).rounded() / 10))
                return
            }
            let summary = String(format: "Argon2id m=%u KiB (%.1f MiB), t=%u, p=%u: %.1f ms per hash, about %.1f logins/s per core",
                                 parameters.memoryKiB, Double(parameters.memoryKiB) / 1024, parameters.iterations, parameters.parallelism,
                                 result.milliseconds, result.loginsPerSecondPerCore)
            show("\(summary)")
            if result.milliseconds > Double(targetMilliseconds) * 1.05 && parameters == .owaspDefault {
                show("note: OWASP's floor already takes longer than \(targetMilliseconds) ms here; Portcullis never goes below it")
            }
            show("PORTCULLIS_ARGON2_MEMORY_KIB=\(parameters.memoryKiB)")
            show("PORTCULLIS_ARGON2_ITERATIONS=\(parameters.iterations)")
            show("PORTCULLIS_ARGON2_PARALLELISM=\(parameters.parallelism)")
        }
    }
}
