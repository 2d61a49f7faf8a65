import ArgumentParser
import Foundation
import PortcullisCore
import PortcullisPolicy
import PortcullisSQLite

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Check, explain and compare RBAC policies.",
        subcommands: [Check.self, Explain.self, Diff.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a policy directory: exit 0, or FILE:LINE: message for each error.")
        @Argument(help: "Directory (default: the configured policies directory).") var directory: String?
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let path = try directory ?? options.configuration().policiesDirectory
            do {
                let policy = try Policy.load(directory: path)
                report(options, ["directory": path, "roles": String(policy.roleNames.count), "version": policy.version, "result": "ok"])
            } catch let error as PolicyLoadError {
                for issue in error.issues { FileHandle.standardError.write(Data((TerminalText.escape(issue.description) + "\n").utf8)) }
                throw ExitCode(1)
            }
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the roles considered and the deciding rule for one question.")
        @Argument var user: String
        @Argument var action: String
        @Argument var resource: String
        @OptionGroup var options: GlobalOptions

        struct Explanation: Encodable {
            let subject: String
            let grantedRoles: [String]
            let roles: [String]
            let allowed: Bool
            let reason: String
            let policyVersion: String
            enum CodingKeys: String, CodingKey {
                case subject, roles, allowed, reason
                case grantedRoles = "granted_roles"
                case policyVersion = "policy_version"
            }
        }

        func run() async throws {
            // The server refuses such a resource before deciding; explaining a decision it never makes would mislead.
            if let violation = ResourcePath.canonicalityViolation(resource) { throw PortcullisError.invalidRequest(TerminalText.escape(violation)) }
            let configuration = try options.configuration()
            let policy = try options.loadPolicy(configuration.policiesDirectory)
            let store = try await options.openStore()
            var granted: [String] = []
            if let account = try await store.user(username: user) { granted = try await store.roles(ofUserID: account.id) }
            let decision = policy.decide(subject: user, grantedRoles: granted, action: action, resource: resource)
            let explanation = Explanation(
                subject: user, grantedRoles: granted, roles: decision.roles, allowed: decision.allowed,
                reason: decision.reason, policyVersion: policy.version)
            if options.json { try printJSON(explanation); return }
            show("""
                subject:  \(user)
                granted:  \(granted.joined(separator: ", ").nonEmpty ?? "-")
                roles:    \(decision.roles.joined(separator: ", ").nonEmpty ?? "-")
                decision: \(decision.allowed ? "ALLOW" : "DENY") \(action) on \(resource)
                reason:   \(decision.reason)
                """)
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replay the logged decisions against the policy in DIR and list those that would flip.")
        @Argument(help: "Candidate policy directory.") var directory: String
        @Option(help: "How many logged decisions to replay (newest first).") var limit = 100_000
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let candidate = try options.loadPolicy(directory)
            let records = try await options.openStore().recentDecisions(limit: limit)
            let flips = PolicyDiff.flips(of: records, under: candidate)
            if options.json { try printJSON(flips); return }
            show("replayed \(records.count) logged decisions against \(directory) (version \(candidate.version)): \(flips.count) would flip")
            for flip in flips {
                let was = flip.record.allowed ? "ALLOW" : "DENY", now = flip.candidateAllowed ? "ALLOW" : "DENY"
                show("\(was) -> \(now)  \(flip.record.subject) \(flip.record.action) \(flip.record.resource)  (\(flip.candidateReason))")
            }
        }
    }
}
