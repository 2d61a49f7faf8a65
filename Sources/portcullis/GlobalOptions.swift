import ArgumentParser
import Foundation
import PortcullisCore
import PortcullisPolicy
import Logging
import PortcullisServer

/// `--db`, `--keys`, `--policies`, `--json`, accepted after every subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Database: a SQLite file path, sqlite:PATH or a postgres://user:password@host:port/name URL (env PORTCULLIS_DB).")
    var db: String?

    @Option(help: "Keys directory (env PORTCULLIS_KEYS).")
    var keys: String?

    @Option(help: "Policies directory (env PORTCULLIS_POLICIES).")
    var policies: String?

    @Option(help: "Configuration file of `key = value` lines (env PORTCULLIS_CONFIG).")
    var config: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// Defaults, then the configuration file, then the environment, then these flags.
    func configuration() throws -> PortcullisConfiguration {
        var configuration = PortcullisConfiguration()
        let environment = ProcessInfo.processInfo.environment
        if let file = config ?? environment[PortcullisConfiguration.configFileVariable] { try configuration.apply(file: file) }
        try configuration.apply(environment: environment)
        if let db { try configuration.apply(key: "PORTCULLIS_DB", value: db) }
        if let keys { try configuration.apply(key: "PORTCULLIS_KEYS", value: keys) }
        if let policies { try configuration.apply(key: "PORTCULLIS_POLICIES", value: policies) }
        return configuration
    }

    /// The store `PORTCULLIS_DB` names: SQLite migrates on open; PostgreSQL must already be
    /// migrated (`portcullis migrate`) unless PORTCULLIS_DB_AUTO_MIGRATE=1.
    func openStore() async throws -> any PortcullisStore {
        try await Self.open(try configuration())
    }

    static func open(_ configuration: PortcullisConfiguration) async throws -> any PortcullisStore {
        do {
            return try await StoreOpening.open(
                configuration, schema: configuration.autoMigrate ? .migrate : .refuseIfBehind, logger: Logger(label: "portcullis")).store
        } catch let refusal as StartupRefusal {
            throw ValidationError(refusal.description)
        }
    }

    /// Admin operations over the configured store, checking role names against the configured policy.
    func administration() async throws -> UserAdministration {
        let configuration = try configuration()
        return UserAdministration(
            store: try await Self.open(configuration), hasher: try PasswordHasher(parameters: configuration.argon2),
            policy: try loadPolicy(configuration.policiesDirectory))
    }

    /// The policy in `directory`; a missing directory is an empty policy, an invalid one an error listing every issue.
    func loadPolicy(_ directory: String) throws -> Policy {
        guard FileManager.default.fileExists(atPath: directory) else { return try Policy.compile([]) }
        do {
            return try Policy.load(directory: directory)
        } catch let error as PolicyLoadError {
            throw ValidationError("invalid policy in \(directory):\n" + error.issues.map(\.description).joined(separator: "\n"))
        }
    }
}

/// Prints `value` as sorted, pretty JSON.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
