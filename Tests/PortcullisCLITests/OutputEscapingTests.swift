import Foundation
import PortcullisCore
import PortcullisSQLite
import Testing

/// Values chosen by whoever calls the server reach the operator's terminal through the CLI:
/// none may carry a raw control character (issue 13).
@Suite(.serialized) struct OutputEscapingTests {
    /// Clears the screen, then starts a line that looks like a real audit event.
    static let hostile = "eve\u{1B}[2J\r\n2026-01-01T00:00:00Z login.success actor=admin\u{9B}31m\u{7F}\\x1b"
    /// How `hostile` must look once escaped: every control character visible, the backslash doubled.
    static let escaped = #"eve\x1b[2J\r\n2026-01-01T00:00:00Z login.success actor=admin\x9b31m\x7f\\x1b"#

    /// True when `text` has a C0 control character, DEL or a C1 control character, other than the
    /// line feeds that end lines and the tabs that separate list columns (a tab inside a value
    /// shows up in the exact-line comparisons instead).
    static func hasRawControlCharacter(_ text: String) -> Bool {
        text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) }
    }

    /// The lines of `text`, which must end with a line feed.
    static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    }

    @Test func auditPrintsAFailedLoginsHostileUsernameEscapedOnOneLine() async throws {
        let cli = CLI()
        // Given a failed login for a username no validation saw, stored as AuthService stores one.
        let store = try SQLiteStore(path: cli.directory + "/db.sqlite")
        try await store.appendAudit(AuditEvent(
            at: Date(), action: "login.failure", actor: "anonymous", subject: Self.hostile, remoteAddress: "203.0.113.9", detail: "wrong password\n"))
        // When the operator reads the audit trail.
        let result = try cli.run(["audit", "--limit", "10"])
        // Then the event is one line, its values escaped, and nothing reaches the terminal raw.
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!Self.hasRawControlCharacter(result.stdout), "\(result.stdout.debugDescription)")
        let lines = Self.lines(result.stdout)
        #expect(lines.count == 1, "\(result.stdout.debugDescription)")
        #expect(lines.first?.contains("login.failure actor=anonymous subject=\(Self.escaped) from=203.0.113.9 (wrong password\\n)") == true,
                "\(result.stdout.debugDescription)")

        // JSON keeps the exact value; JSONEncoder escapes C0 (ESC, CR, LF) itself. (DEL and C1 it
        // leaves raw, as RFC 8259 allows: --json is for programs, not terminals.)
        let json = try cli.run(["audit", "--json"])
        #expect(!json.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(json.stdout.debugDescription)")
        let events = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(events.first?["subject"] as? String == Self.hostile)
    }

    @Test func userListAndShowEscapeAStoredUsernameAndEmail() async throws {
        let cli = CLI()
        // `user add` validates names and e-mails; a row written another way (an older version, an import) does not.
        let store = try SQLiteStore(path: cli.directory + "/db.sqlite")
        let now = Date()
        try await store.createUser(User(id: "u1", username: Self.hostile, email: "e\u{1B}]0;pwned\u{7}@example.com",
                                        passwordHash: "x", disabled: false, createdAt: now, updatedAt: now))
        _ = try await store.grantRole("viewer\u{1B}[8m", toUserID: "u1", at: now)

        let list = try cli.run(["user", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(!Self.hasRawControlCharacter(list.stdout), "\(list.stdout.debugDescription)")
        let row: [String] = [Self.escaped, #"e\x1b]0;pwned\x07@example.com"#, #"viewer\x1b[8m"#, "-"]
        #expect(Self.lines(list.stdout) == [Substring(row.joined(separator: "\t"))])

        let show = try cli.run(["user", "show", Self.hostile])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(!Self.hasRawControlCharacter(show.stdout), "\(show.stdout.debugDescription)")
        #expect(Self.lines(show.stdout).count == 7, "one line per field: \(show.stdout.debugDescription)")
        #expect(show.stdout.contains("username: \(Self.escaped)\n"))
    }

    @Test func clientListAndShowEscapeAClientName() throws {
        let cli = CLI()
        // Client names are free text shown on the consent page; the CLI takes any.
        let added = try cli.run(["client", "add", Self.hostile, "--id", "web", "--redirect-uri", "https://app.example/cb"])
        #expect(added.status == 0, "\(added.stderr)")

        let list = try cli.run(["client", "list"])
        #expect(!Self.hasRawControlCharacter(list.stdout), "\(list.stdout.debugDescription)")
        #expect(Self.lines(list.stdout) == ["web\t\(Self.escaped)\tconfidential\thttps://app.example/cb"])

        let show = try cli.run(["client", "show", "web"])
        #expect(!Self.hasRawControlCharacter(show.stdout), "\(show.stdout.debugDescription)")
        #expect(show.stdout.contains("name:          \(Self.escaped)\n"), "\(show.stdout.debugDescription)")
        #expect(Self.lines(show.stdout).count == 10, "one line per field: the name did not break a line")

        // The audit trail of the CLI's own changes is escaped the same way.
        let audit = try cli.run(["audit"])
        #expect(!Self.hasRawControlCharacter(audit.stdout))
    }

    @Test func policyDiffEscapesALoggedSubjectAndResource() async throws {
        let cli = CLI()
        // Decisions are logged with whatever subject and resource a caller of /v1/authorize sent.
        let store = try SQLiteStore(path: cli.directory + "/db.sqlite")
        try await store.appendDecisions([DecisionRecord(
            at: Date(), subject: Self.hostile, grantedRoles: ["viewer"], action: "read", resource: "documents/\u{1B}[2Jx",
            allowed: false, rule: nil, policyVersion: "old")], capacity: 100)
        let diff = try cli.run(["policy", "diff", cli.directory + "/Policies"])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(!Self.hasRawControlCharacter(diff.stdout), "\(diff.stdout.debugDescription)")
        #expect(Self.lines(diff.stdout).count == 2, "\(diff.stdout.debugDescription)")
        #expect(diff.stdout.contains("DENY -> ALLOW  \(Self.escaped) read documents/\\x1b[2Jx"), "\(diff.stdout.debugDescription)")
    }
}
