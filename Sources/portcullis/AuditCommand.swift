import ArgumentParser
import Foundation
import PortcullisCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show the newest audit events, or verify the log's hash chain.",
        subcommands: [Show.self, Verify.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the newest audit events (the default).")
        @Option(help: "How many events.") var limit = 50
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let events = try await options.administration().auditTrail(limit: limit)
            if options.json { try printJSON(events); return }
            let formatter = ISO8601DateFormatter()
            for event in events {
                // Actor, subject, address and detail may come from a client (a failed login's username): each is escaped.
                let fields: [TerminalText?] = [
                    "\(formatter.string(from: event.at))", "\(event.action)", "actor=\(event.actor)", event.subject.map { "subject=\($0)" },
                    event.remoteAddress.map { "from=\($0)" }, event.detail.map { "(\($0))" }]
                show(fields.compactMap { $0 }, separator: " ")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every link of the audit hash chain; prints the head hash, or the first broken row and exits 1.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            switch try await options.administration().verifyAudit() {
            case .intact(let events, let head):
                report(options, ["result": "intact", "events": String(events), "head": head])
            case .broken(let id, let reason):
                report(options, ["result": "broken", "first_broken_row": String(id), "reason": reason])
                throw ExitCode(1)
            }
        }
    }
}
