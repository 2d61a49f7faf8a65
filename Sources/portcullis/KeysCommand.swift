public import ArgumentParser
import Foundation
import PortcullisCore
import PortcullisCrypto

extension JWSAlgorithm: ExpressibleByArgument {}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage signing keys.", subcommands: [List.self, Rotate.self, Retire.self])

    struct KeyRow: Encodable {
        let kid: String
        let alg: String
        let status: String
        let createdAt: Date
        let retiredAt: Date?
        enum CodingKeys: String, CodingKey {
            case kid, alg, status
            case createdAt = "created_at"
            case retiredAt = "retired_at"
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys: signing, live or retired.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let directory = KeyDirectory(path: try options.configuration().keysDirectory)
            let signing = try directory.signingKID()
            let rows = try directory.list().map { meta in
                KeyRow(kid: meta.kid, alg: meta.alg.rawValue,
                       status: meta.kid == signing ? "signing" : (meta.retiredAt == nil ? "live" : "retired"),
                       createdAt: meta.createdAt, retiredAt: meta.retiredAt)
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
            let directory = KeyDirectory(path: try options.configuration().keysDirectory)
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
        @Argument var kid: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try KeyDirectory(path: try options.configuration().keysDirectory).retire(kid: kid)
            try await options.administration().audit("keys.retire", subject: kid)
            report(options, ["kid": kid, "result": "retired"])
        }
    }
}
