import ArgumentParser
import Foundation
import PortcullisCore

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.",
        subcommands: [Add.self, List.self, Show.self, Passwd.self, Disable.self, Enable.self, Delete.self, Unlock.self, MFAReset.self,
                      Passkeys.self, PasskeyRemove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user.")
        @Argument var name: String
        @Option var email: String?
        @Option(name: .customLong("role"), help: "Role to grant (repeatable).") var roles: [String] = []
        @Flag(help: "Read the password from one line of standard input.") var passwordStdin = false
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let password = try PasswordInput.read(fromStandardInput: passwordStdin, confirm: true)
            let user = try await options.administration().addUser(username: name, email: email, password: password, roles: roles)
            if options.json { try printJSON(user) } else { show("created user \(user.username) (\(user.id))") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let users = try await options.administration().listUsers()
            if options.json { try printJSON(users); return }
            for user in users {
                let flags = [user.disabled ? "disabled" : nil, user.mfa ? "mfa" : nil].compactMap { $0 }.joined(separator: ",")
                show(["\(user.username)", "\(user.email ?? "-")", "\(user.roles.joined(separator: ",").nonEmpty ?? "-")", "\(flags.nonEmpty ?? "-")"], separator: "\t")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one user.")
        @Argument var name: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let user = try await options.administration().showUser(name)
            if options.json { try printJSON(user); return }
            show("""
                username: \(user.username)
                id:       \(user.id)
                email:    \(user.email ?? "-")
                roles:    \(user.roles.joined(separator: ", ").nonEmpty ?? "-")
                disabled: \(user.disabled)
                mfa:      \(user.mfa ? "active" : "off")
                created:  \(ISO8601DateFormatter().string(from: user.createdAt))
                """)
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password and end their sessions.")
        @Argument var name: String
        @Flag(help: "Read the password from one line of standard input.") var passwordStdin = false
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let password = try PasswordInput.read(fromStandardInput: passwordStdin, confirm: true)
            try await options.administration().setPassword(name, password: password)
            report(options, ["username": name, "result": "password changed"])
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user and end their sessions.")
        @Argument var name: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.administration().setDisabled(name, disabled: true)
            report(options, ["username": name, "result": "disabled"])
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a user.")
        @Argument var name: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.administration().setDisabled(name, disabled: false)
            report(options, ["username": name, "result": "enabled"])
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user with their roles and sessions; --erase also removes their personal data (GDPR).")
        @Argument var name: String
        @Flag(help: "Erase: also pseudonymise the user's audit events and drop their decision-log rows.") var erase = false
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            if erase {
                let (pseudonym, events) = try await options.administration().eraseUser(name)
                report(options, ["username": name, "result": "erased", "pseudonym": pseudonym, "audit_events_pseudonymised": String(events)])
                return
            }
            try await options.administration().deleteUser(name)
            report(options, ["username": name, "result": "deleted"])
        }
    }

    struct MFAReset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mfa-reset", abstract: "Remove a user's TOTP and recovery codes.")
        @Argument var name: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let removed = try await options.administration().resetMFA(name)
            report(options, ["username": name, "result": removed ? "mfa removed" : "no mfa enrolled"])
        }
    }

    struct Passkeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's passkeys (a flagged one is refused at sign-in: possibly cloned).")
        @Argument var name: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let passkeys = try await options.administration().passkeys(name)
            let format = ISO8601DateFormatter()
            if options.json {
                try printJSON(passkeys.map { passkey in
                    ["id": passkey.id, "name": passkey.name, "created_at": format.string(from: passkey.createdAt),
                     "last_used_at": passkey.lastUsedAt.map(format.string(from:)) ?? "", "sign_count": String(passkey.signCount),
                     "backed_up": String(passkey.backedUp), "flagged_at": passkey.flaggedAt.map(format.string(from:)) ?? ""]
                })
                return
            }
            if passkeys.isEmpty { show("\(name) has no passkey") }
            for passkey in passkeys {
                let state = passkey.flaggedAt.map { "FLAGGED \(format.string(from: $0)): sign count went backwards, possibly cloned; remove it" }
                    ?? (passkey.lastUsedAt.map { "last used \(format.string(from: $0))" } ?? "never used")
                show(["\(passkey.id)", "\(passkey.name)", "\(format.string(from: passkey.createdAt))", "\(state)"], separator: "\t")
            }
        }
    }

    struct PasskeyRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "passkey-remove", abstract: "Remove one of a user's passkeys and end their sessions.")
        @Argument var name: String
        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The passkey's id, as `user passkeys` lists it (one; it may start with \"-\").", valueName: "id")) var captured: [String]
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let id = try GeneratedIdentifier.one(of: captured, named: "id")
            try await options.administration().removePasskey(name, id: id)
            report(options, ["username": name, "passkey": id, "result": "removed"])
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Clear an account's failed-login lockout.")
        @Argument var name: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let cleared = try await options.administration().unlock(name)
            report(options, ["username": name, "result": cleared ? "unlocked" : "was not locked"])
        }
    }
}

/// Prints a one-line result, or it as JSON with `--json`.
func report(_ options: GlobalOptions, _ fields: [String: String]) {
    if options.json {
        try? printJSON(fields)
    } else {
        show(fields.keys.sorted().map { "\($0): \(fields[$0]!)" }, separator: ", ")
    }
}

extension String {
    /// nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}
