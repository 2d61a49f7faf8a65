import ArgumentParser
import PortcullisCore

struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "Grant and revoke roles.", subcommands: [Grant.self, Revoke.self])

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Grant a role to a user.")
        @Argument var user: String
        @Argument var role: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let granted = try await options.administration().grantRole(role, to: user)
            report(options, ["username": user, "role": role, "result": granted ? "granted" : "already granted"])
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a role from a user.")
        @Argument var user: String
        @Argument var role: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let revoked = try await options.administration().revokeRole(role, from: user)
            report(options, ["username": user, "role": role, "result": revoked ? "revoked" : "was not granted"])
        }
    }
}
