import ArgumentParser
import Foundation
import Logging
import PortcullisCore
import PortcullisServer
import PortcullisSQLite

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Bring the database's schema up to date, show what is pending, or import a SQLite deployment.",
        subcommands: [Apply.self, Status.self, Import.self], defaultSubcommand: Apply.self)

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply every pending migration (the default); on PostgreSQL under an advisory lock, so replicas starting at once never both migrate.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let configuration = try options.configuration()
            let opened = try await StoreOpening.open(configuration, schema: .migrate, logger: Logger(label: "portcullis.migrate"))
            opened.close()
            report(options, ["result": "up to date", "database": configuration.database.description])
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the migrations not yet applied; exits 1 when the schema is behind.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let configuration = try options.configuration()
            do {
                let opened = try await StoreOpening.open(configuration, schema: .refuseIfBehind, logger: Logger(label: "portcullis.migrate"))
                opened.close()
                report(options, ["result": "up to date", "database": configuration.database.description])
            } catch let refusal as StartupRefusal where refusal.schemaBehind {
                report(options, ["result": "behind", "database": configuration.database.description, "detail": refusal.description])
                throw ExitCode(1)
            } catch let refusal as StartupRefusal {
                throw ValidationError(refusal.description)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a whole SQLite deployment (users, hashes, TOTP ciphertexts, passkeys, sessions, clients, consents, the audit chain) into the empty PostgreSQL database PORTCULLIS_DB names, then verify the copied audit chain.")
        @Option(help: "The SQLite deployment to copy: sqlite:PATH or a file path.") var from: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let configuration = try options.configuration()
            guard case .postgres = configuration.database else {
                throw ValidationError("migrate import copies into PostgreSQL: set PORTCULLIS_DB (or --db) to a postgres:// URL")
            }
            guard case .sqlite(let path) = try DatabaseLocation(parsing: from) else {
                throw ValidationError("--from takes a SQLite deployment: sqlite:PATH")
            }
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("--from: no such file \(path)") }
            let source = try SQLiteStore(path: path)
            let opened = try await StoreOpening.open(configuration, schema: .migrate, logger: Logger(label: "portcullis.migrate"))
            defer { opened.close() }
            guard let target = opened.store as? any LoadableStore else { throw ValidationError("the target store cannot import") }
            let tables = try await source.dumpTables()
            try await target.loadTables(tables)
            let verdict = AuditChain.verify(try await opened.store.auditEntries())
            var summary = ["result": "imported", "from": path, "into": configuration.database.description]
            for table in tables { summary[table.table] = String(table.rows.count) }
            switch verdict {
            case .intact(let events, let head):
                summary["audit"] = "intact: \(events) events, head \(head)"
                report(options, summary)
            case .broken(let id, let reason):
                summary["audit"] = "broken at row \(id): \(reason)"
                report(options, summary)
                throw ExitCode(1)
            }
        }
    }
}
