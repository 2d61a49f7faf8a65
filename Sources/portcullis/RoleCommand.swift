import ArgumentParser
import PortcullisCore
import PortcullisPolicy

struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "List, grant and revoke roles.", subcommands: [List.self, Grant.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Roles defined by the policy, with their effective permissions.")
        @OptionGroup var options: GlobalOptions

        struct RoleRow: Encodable {
            let role: String
            let allow: [String]
            let deny: [String]
        }

        func run() async throws {
            let policy = try options.loadPolicy(try options.configuration().policiesDirectory)
            let rows = policy.roleNames.map { role in
                let rules = policy.rules(of: role, inherited: true)
                func render(_ effect: PolicyEffect) -> [String] {
                    rules.filter { $0.effect == effect }.map { "\($0.resource):\($0.action) (\($0.location)\($0.role == role ? "" : ", from \($0.role)"))" }
                }
                return RoleRow(role: role, allow: render(.allow), deny: render(.deny))
            }
            if options.json { try printJSON(rows); return }
            for row in rows {
                show("\(row.role)")
                for rule in row.allow { show("  allow \(rule)") }
                for rule in row.deny { show("  deny  \(rule)") }
            }
        }
    }

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
