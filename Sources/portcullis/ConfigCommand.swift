import ArgumentParser
import PortcullisCore

/// `portcullis config`: the effective configuration and where each value came from.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration (flags > PORTCULLIS_* environment > config file > defaults).",
        discussion: "Keys live in the keys directory and are never printed; the password of a postgres:// PORTCULLIS_DB is shown as ***.")
    @OptionGroup var options: GlobalOptions

    struct Setting: Encodable {
        let key: String
        let value: String
        let source: String
    }

    func run() async throws {
        let settings = try options.configuration().settings.map { Setting(key: $0.key, value: $0.value, source: $0.source.rawValue) }
        if options.json { try printJSON(settings); return }
        for setting in settings { show("\(setting.key)=\(setting.value)\t(\(setting.source))") }
    }
}
