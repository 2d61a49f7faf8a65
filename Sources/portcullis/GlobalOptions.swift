import ArgumentParser
import Foundation
import PortcullisCore
import PortcullisPolicy
import PortcullisSQLite

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

    /// The store at the configured path (SQLite only so far: a postgres:// location is a clear error).
    func openStore() throws -> SQLiteStore {
        try SQLiteStore(path: try configuration().sqlitePath())
    }

    /// Admin operations over the configured store, checking role names against the configured policy.
    func administration() throws -> UserAdministration {
        let configuration = try configuration()
        return UserAdministration(
            store: try SQLiteStore(path: configuration.sqlitePath()), hasher: try PasswordHasher(parameters: configuration.argon2),
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
