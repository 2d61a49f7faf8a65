import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PortcullisCore
import PortcullisPolicy
import PortcullisServer
import PortcullisSQLite

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

        do {
            try configuration.checkArgon2Floor()
        } catch let error as PortcullisError {
            throw ValidationError("refusing to start: \(error.description)")
        }

        PortcullisLogHandler.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let logger = Logger(label: "portcullis")

        let store = try SQLiteStore(path: configuration.databasePath)
        let directory = KeyDirectory(path: configuration.keysDirectory)
        for line in try directory.prepare(signingAlgorithm: configuration.signingAlgorithm) { logger.notice("\(line)") }
        let keys = try KeyRingProvider(directory: directory, reportReloadFailure: { logger.error("\($0)") })
        if !FileManager.default.fileExists(atPath: configuration.policiesDirectory) {
            try FileManager.default.createDirectory(atPath: configuration.policiesDirectory, withIntermediateDirectories: true)
            logger.notice("created empty policies directory \(configuration.policiesDirectory)")
        }
        let policies: PolicyProvider
        do {
            policies = try PolicyProvider(directory: configuration.policiesDirectory)
        } catch let error as PolicyLoadError {
            throw ValidationError("refusing to start: invalid policy in \(configuration.policiesDirectory):\n" + error.issues.map(\.description).joined(separator: "\n"))
        }
        let services = PortcullisServices(
            configuration: configuration, store: store, keys: keys,
            hasher: try PasswordHasher(parameters: configuration.argon2), secretsKey: try directory.secretsKey(), policies: policies)
        logger.notice("policy \(absolute(configuration.policiesDirectory)) version \(policies.current.version): \(policies.current.roleNames.count) roles")
        logger.notice("database \(absolute(configuration.databasePath)); keys \(absolute(configuration.keysDirectory)); signing key \(keys.current().signingKID)")
        logger.notice("issuer \(configuration.issuer); listening on http://\(configuration.host):\(configuration.port)")
        try await buildApplication(services, logger: logger).runService()
    }

    private func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
