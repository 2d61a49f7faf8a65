import ArgumentParser

/// The `portcullis` command: `serve` and the admin commands.
@main
struct Portcullis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis",
        abstract: "Authentication and authorisation service: JWTs, Argon2id passwords, RBAC.",
        subcommands: [Serve.self, UserCommand.self, RoleCommand.self, PolicyCommand.self, ClientCommand.self, KeysCommand.self, AuditCommand.self, ConfigCommand.self, HashCommand.self, MigrateCommand.self])
}
