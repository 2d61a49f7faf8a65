import ArgumentParser
import Foundation
import PortcullisCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the newest audit events.")
    @Option(help: "How many events.") var limit = 50
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let events = try await options.administration().auditTrail(limit: limit)
        if options.json { try printJSON(events); return }
        let formatter = ISO8601DateFormatter()
        for event in events {
            let fields = [formatter.string(from: event.at), event.action, "actor=\(event.actor)", event.subject.map { "subject=\($0)" },
                          event.remoteAddress.map { "from=\($0)" }, event.detail.map { "(\($0))" }]
            print(fields.compactMap { $0 }.joined(separator: " "))
        }
    }
}
