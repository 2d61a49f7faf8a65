public import ArgumentParser
import Foundation
import PortcullisCore
import PortcullisCrypto
import PortcullisServer
import Logging

extension JWSAlgorithm: ExpressibleByArgument {}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage signing keys (in Keys/, or in the database when it is PostgreSQL).",
        subcommands: [List.self, Rotate.self, Retire.self, Rewrap.self, Import.self])

    struct KeyRow: Encodable {
        let kid: String
        let alg: String
        let status: String
        let createdAt: Date
        let activatesAt: Date?
        let retiredAt: Date?
        enum CodingKeys: String, CodingKey {
            case kid, alg, status
            case createdAt = "created_at"
            case activatesAt = "activates_at"
            case retiredAt = "retired_at"
        }
    }

    /// The database's keys when the deployment keeps them there (PostgreSQL), else nil (`Keys/`).
    static func storedKeys(_ configuration: PortcullisConfiguration) async throws -> StoredKeyAdministration? {
        guard case .postgres = configuration.database else { return nil }
        let opened: OpenedStore
        do {
            opened = try await StoreOpening.open(
                configuration, schema: configuration.autoMigrate ? .migrate : .refuseIfBehind, logger: Logger(label: "portcullis"))
        } catch let refusal as StartupRefusal {
            throw ValidationError(refusal.description)
        }
        guard let keyStore = opened.signingKeys else { return nil }
        return StoredKeyAdministration(store: keyStore, secrets: try configuration.keyEncryptionKeys())
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: signing, live or retired.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let configuration = try options.configuration()
            let rows: [KeyRow]
            if let stored = try await KeysCommand.storedKeys(configuration) {
                rows = try await stored.list().map { key, status in
                    KeyRow(kid: key.kid, alg: key.alg.rawValue, status: status, createdAt: key.createdAt,
                           activatesAt: key.activatesAt, retiredAt: key.retiredAt)
                }
            } else {
                let directory = KeyDirectory(path: configuration.keysDirectory)
                let signing = try directory.signingKID()
                rows = try directory.list().map { meta in
                    KeyRow(kid: meta.kid, alg: meta.alg.rawValue,
                           status: meta.kid == signing ? "signing" : (meta.retiredAt == nil ? "live" : "retired"),
                           createdAt: meta.createdAt, activatesAt: nil, retiredAt: meta.retiredAt)
                }
            }
            if options.json { try printJSON(rows); return }
            for row in rows { show("\(row.kid)\t\(row.alg)\t\(row.status)\t\(ISO8601DateFormatter().string(from: row.createdAt))") }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a key that becomes the signing key; older keys keep verifying.")
        @Option(help: "ES256, EdDSA or RS256.") var alg: JWSAlgorithm = .es256
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let configuration = try options.configuration()
            if let stored = try await KeysCommand.storedKeys(configuration) {
                // Published at once, signing from its activation: every replica verifies it first.
                let key = try await stored.rotate(alg, activationDelay: configuration.keyActivationDelay)
                try await options.administration().audit("keys.rotate", subject: key.kid, detail: alg.rawValue)
                report(options, ["kid": key.kid, "alg": alg.rawValue,
                                 "result": "signing key from \(ISO8601DateFormatter().string(from: key.activatesAt))"])
                return
            }
            let directory = KeyDirectory(path: configuration.keysDirectory)
            // On an empty directory the first key is the rotation.
            let meta = try directory.signingKID() == nil
                ? try { try directory.prepare(signingAlgorithm: alg); return try directory.list()[0] }()
                : try directory.rotate(alg)
            try await options.administration().audit("keys.rotate", subject: meta.kid, detail: alg.rawValue)
            report(options, ["kid": meta.kid, "alg": alg.rawValue, "result": "signing key"])
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Retire a key: it leaves the JWKS and verifies nothing.")
        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The key's id, as `keys list` shows it (one; it may start with \"-\").", valueName: "kid")) var captured: [String]
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let kid = try GeneratedIdentifier.one(of: captured, named: "kid")
            let configuration = try options.configuration()
            if let stored = try await KeysCommand.storedKeys(configuration) {
                try await stored.retire(kid: kid)
            } else {
                try KeyDirectory(path: configuration.keysDirectory).retire(kid: kid)
            }
            try await options.administration().audit("keys.retire", subject: kid)
            report(options, ["kid": kid, "result": "retired"])
        }
    }

    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reseal the database's signing keys under the first key of PORTCULLIS_SECRETS_KEY (PostgreSQL).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            guard let stored = try await KeysCommand.storedKeys(try options.configuration()) else {
                throw ValidationError("this deployment keeps its keys in Keys/ (SQLite): there is nothing sealed to rewrap")
            }
            let changed = try await stored.rewrap()
            try await options.administration().audit("keys.rewrap", subject: nil, detail: "\(changed) resealed")
            report(options, ["resealed": String(changed), "result": "every key sealed under the first key-encryption key"])
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a Keys/ directory's live keys into the database's empty key table (PostgreSQL).")
        @Option(help: "The Keys/ directory to copy (default: PORTCULLIS_KEYS).") var from: String?
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let configuration = try options.configuration()
            guard let stored = try await KeysCommand.storedKeys(configuration) else {
                throw ValidationError("keys import moves Keys/ into a PostgreSQL database; PORTCULLIS_DB names SQLite")
            }
            let imported = try await stored.importKeys(from: KeyDirectory(path: from ?? configuration.keysDirectory))
            let administration = try await options.administration()
            for key in imported {
                try await administration.audit("keys.import", subject: key.kid, detail: key.alg.rawValue)
            }
            report(options, ["imported": String(imported.count), "signing": imported.first(where: \.signs)?.kid ?? "",
                             "result": "keys copied into the database, sealed"])
        }
    }
}
