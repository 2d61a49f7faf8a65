import ArgumentParser
import Hummingbird
import Logging
import PortcullisCore
import PortcullisServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server.")
    @Option(help: "Listen address (env PORTCULLIS_HOST).") var host: String?
    @Option(help: "Listen port (env PORTCULLIS_PORT).") var port: Int?
    @Option(help: "Token issuer URL (env PORTCULLIS_ISSUER).") var issuer: String?
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        var configuration = try options.configuration()
        if let host { try configuration.apply(key: "PORTCULLIS_HOST", value: host) }
        if let port { try configuration.apply(key: "PORTCULLIS_PORT", value: String(port)) }
        if let issuer {
            try configuration.apply(key: "PORTCULLIS_ISSUER", value: issuer)
        } else if configuration.sources["PORTCULLIS_ISSUER"] == nil {
            // No issuer given: the address we listen on is the one clients reach.
            try configuration.apply(key: "PORTCULLIS_ISSUER", value: "http://\(configuration.host):\(configuration.port)")
        }

        PortcullisLogHandler.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let logger = Logger(label: "portcullis")
        do {
            try await buildApplication(configuration, logger: logger).runService()
        } catch let refusal as StartupRefusal {
            throw ValidationError("refusing to start: \(refusal.description)")
        }
    }
}
