import Foundation
import PortcullisPolicy
import Testing

/// Casbin's rbac_with_deny + keyMatch, pinned case by case.
@Suite struct DecisionTests {
    /// The example of docs/POLICIES.md.
    static let designExample = """
        roles:
          viewer:
            allow: ["documents/*:read"]
          editor:
            inherits: [viewer]
            allow: ["documents/*:write"]
            deny:  ["documents/secret/*:*"]
        bindings:            # optional static subjects
          svc-billing: [viewer]
        """

    @Test func designExampleAnswersAsDocumented() throws {
        let policy = try yamlPolicy(Self.designExample)
        #expect(policy.allows(["viewer"], "read", "documents/plan"))
        #expect(!policy.allows(["viewer"], "write", "documents/plan"))
        #expect(policy.allows(["editor"], "read", "documents/plan"))
        #expect(policy.allows(["editor"], "write", "documents/plan"))
        #expect(!policy.allows(["editor"], "read", "documents/secret/x"))
        #expect(policy.allows(["viewer"], "read", "documents/secret/x"))
        #expect(!policy.allows([], "read", "documents/plan"))
        #expect(policy.allows([], "read", "documents/plan", subject: "svc-billing"))
        #expect(!policy.allows([], "write", "documents/plan", subject: "svc-billing"))
    }

    @Test func denyOverridesAllowAndIsTheDecidingRule() throws {
        let policy = try yamlPolicy(Self.designExample)
        let decision = policy.decide(subject: "alice", grantedRoles: ["editor"], action: "write", resource: "documents/secret/plan")
        #expect(!decision.allowed)
        #expect(decision.decidingRule?.location == "main.yaml:7")
        #expect(decision.reason == "denied by main.yaml:7 (editor deny documents/secret/*:*)")
        #expect(decision.roles == ["editor", "viewer"])
    }

    @Test func denyOfAnotherGrantedRoleOverridesAnAllow() throws {
        let policy = try yamlPolicy("""
            roles:
              writer:
                allow: ["*"]
              auditor:
                deny: ["logs/*:delete"]
            """)
        #expect(policy.allows(["writer"], "delete", "logs/1"))
        #expect(!policy.allows(["writer", "auditor"], "delete", "logs/1"))
        #expect(!policy.allows(["auditor", "writer"], "delete", "logs/1"))
        #expect(policy.allows(["writer", "auditor"], "read", "logs/1"))
    }

    @Test func denyAloneNeverAllows() throws {
        let policy = try yamlPolicy("roles:\n  r:\n    deny: [\"a:read\"]\n")
        let decision = policy.decide(subject: "s", grantedRoles: ["r"], action: "write", resource: "b")
        #expect(!decision.allowed)
        #expect(decision.reason == "no rule matched")
        #expect(decision.decidingRule == nil)
    }

    @Test func allowReasonNamesTheFirstMatchingRuleInFileOrder() throws {
        let policy = try Policy.compile([
            PolicySource(name: "a.yaml", contents: "roles:\n  r:\n    allow: [\"docs/*:read\", \"docs/x:read\"]\n"),
            PolicySource(name: "b.csv", contents: "p, r, docs/x, read\n"),
        ])
        #expect(policy.decide(subject: "s", grantedRoles: ["r"], action: "read", resource: "docs/x").reason
            == "allowed by a.yaml:3 (r allow docs/*:read)")
    }

    @Test func inheritanceChainsAreClosedTransitively() throws {
        var text = "roles:\n  r0:\n    allow: [\"base:read\"]\n"
        for index in 1...60 { text += "  r\(index):\n    inherits: [r\(index - 1)]\n    allow: [\"level\(index):read\"]\n" }
        let policy = try yamlPolicy(text)
        #expect(policy.allows(["r60"], "read", "base"))
        #expect(policy.allows(["r60"], "read", "level30"))
        #expect(!policy.allows(["r30"], "read", "level31"))
        #expect(policy.effectiveRoles(subject: "s", grantedRoles: ["r3"]) == ["r0", "r1", "r2", "r3"])
        #expect(policy.rules(of: "r2", inherited: false).map(\.resource) == ["level2"])
        #expect(policy.rules(of: "r2", inherited: true).map(\.resource) == ["base", "level1", "level2"])
    }

    @Test func deepChainsLoadWithoutRecursion() throws {
        var csv = "p, r0, base, read\n"
        for index in 1..<3_000 { csv += "g, r\(index), r\(index - 1)\n" }
        let policy = try Policy.compile([PolicySource(name: "deep.csv", contents: csv)])
        // r2999 is only ever on the left of a g line: a subject bound to r2998, as in Casbin.
        #expect(policy.allows([], "read", "base", subject: "r2999"))
        #expect(policy.allows(["r2998"], "read", "base"))
        #expect(!policy.allows(["r2998"], "write", "base"))
        #expect(policy.roleNames.count == 2_999)
    }

    @Test func diamondInheritanceCountsEachRoleOnceAndDenyFromEitherBranchWins() throws {
        let policy = try yamlPolicy("""
            roles:
              base:
                allow: ["shared:read"]
              left:
                inherits: [base]
                allow: ["left:read"]
              right:
                inherits: [base]
                deny: ["left:read"]
              top:
                inherits: [left, right]
            """)
        #expect(policy.effectiveRoles(subject: "s", grantedRoles: ["top"]) == ["base", "left", "right", "top"])
        #expect(policy.allows(["top"], "read", "shared"))
        #expect(!policy.allows(["top"], "read", "left"))
        #expect(policy.allows(["left"], "read", "left"))
    }

    @Test func csvGroupingLinesAreInheritanceForRolesAndBindingsForSubjects() throws {
        let policy = try Policy.compile([PolicySource(name: "casbin.csv", contents: """
            # Casbin form
            p, reader, data/*, read
            p, writer, data/*, write
            p, writer, data/locked, write, deny
            g, writer, reader
            g, alice, writer
            g, bob, guest
            """)])
        #expect(policy.bindings(of: "alice") == ["writer"])
        #expect(policy.effectiveRoles(subject: "alice", grantedRoles: []) == ["reader", "writer"])
        #expect(policy.allows([], "read", "data/x", subject: "alice"))
        #expect(!policy.allows([], "write", "data/locked", subject: "alice"))
        // `guest` exists only on the right of a g line: a role with no rules, as in Casbin.
        #expect(policy.defines(role: "guest"))
        #expect(!policy.allows([], "read", "data/x", subject: "bob"))
    }

    @Test func rulesOfOneRoleMergeAcrossFilesAndGrammars() throws {
        let policy = try Policy.compile([
            PolicySource(name: "a.yaml", contents: "roles:\n  ops:\n    allow: [\"servers/*:restart\"]\n"),
            PolicySource(name: "b.csv", contents: "p, ops, servers/db, restart, deny\np, ops, logs/*, read\n"),
        ])
        #expect(policy.allows(["ops"], "restart", "servers/web"))
        #expect(!policy.allows(["ops"], "restart", "servers/db"))
        #expect(policy.allows(["ops"], "read", "logs/today"))
        #expect(policy.rules(of: "ops", inherited: false).map(\.location) == ["a.yaml:3", "b.csv:1", "b.csv:2"])
    }

    @Test func grantsOfUndefinedRolesAreIgnored() throws {
        let policy = try yamlPolicy(Self.designExample)
        #expect(policy.effectiveRoles(subject: "s", grantedRoles: ["ghost", "viewer"]) == ["viewer"])
        #expect(!policy.allows(["ghost"], "read", "documents/x"))
    }

    @Test func permissionSplitsAtTheLastColon() throws {
        let policy = try yamlPolicy("roles:\n  r:\n    allow: [\"urn:doc:7:read\", \"urn:img:*:view\"]\n")
        #expect(policy.allows(["r"], "read", "urn:doc:7"))
        #expect(!policy.allows(["r"], "7:read", "urn:doc"))
        #expect(policy.allows(["r"], "view", "urn:img:cat.png"))
        #expect(!policy.allows(["r"], "view:x", "urn:img:cat.png"))
        #expect(policy.rules(of: "r", inherited: false).map(\.action) == ["read", "view"])
    }

    @Test func bareStarMatchesEverythingIncludingEmptyStrings() throws {
        let policy = try yamlPolicy("roles:\n  root:\n    allow: [\"*\"]\n")
        #expect(policy.allows(["root"], "read", "anything/at/all"))
        #expect(policy.allows(["root"], "", ""))
        #expect(policy.allows(["root"], "délete", "日本/文書"))
        #expect(policy.rules(of: "root", inherited: false).first.map { "\($0.resource):\($0.action)" } == "*:*")
    }

    @Test func trailingStarMatchesTheBarePrefixAndLongerButNothingElse() throws {
        let policy = try yamlPolicy("roles:\n  r:\n    allow: [\"a*:read\", \"b:x*\"]\n")
        #expect(policy.allows(["r"], "read", "a"))
        #expect(policy.allows(["r"], "read", "abc"))
        #expect(policy.allows(["r"], "read", "a*"))
        #expect(!policy.allows(["r"], "read", ""))
        #expect(!policy.allows(["r"], "read", "ba"))
        #expect(!policy.allows(["r"], "read", "A"))
        #expect(!policy.allows(["r"], "reads", "a"))
        #expect(policy.allows(["r"], "x", "b"))
        #expect(policy.allows(["r"], "xyz", "b"))
        #expect(!policy.allows(["r"], "", "b"))
        #expect(!policy.allows(["r"], "x", "b/"))
    }

    @Test func emptyResourceAndActionAreExactKeys() throws {
        let policy = try Policy.compile([PolicySource(name: "e.csv", contents: "p, r, , \np, s, *, \n")])
        #expect(policy.allows(["r"], "", ""))
        #expect(!policy.allows(["r"], "read", ""))
        #expect(!policy.allows(["r"], "", "x"))
        #expect(policy.allows(["s"], "", "x"))
        #expect(!policy.allows(["s"], "read", "x"))
        let yaml = try yamlPolicy("roles:\n  r:\n    allow: [\":read\"]\n")
        #expect(yaml.allows(["r"], "read", ""))
        #expect(!yaml.allows(["r"], "read", "x"))
    }

    @Test func unicodeIsComparedByBytesAsCasbinDoes() throws {
        let composed = "caf\u{E9}"        // é as one code point (NFC)
        let decomposed = "cafe\u{301}"    // e + combining acute (NFD)
        #expect(composed == decomposed)   // Swift says equal; Casbin and Python do not
        let policy = try yamlPolicy("roles:\n  r:\n    allow: [\"\(composed):lire\", \"日本/*:読む\", \"cafe*:boire\"]\n")
        #expect(policy.allows(["r"], "lire", composed))
        #expect(!policy.allows(["r"], "lire", decomposed))
        #expect(policy.allows(["r"], "読む", "日本/文書"))
        #expect(!policy.allows(["r"], "読む", "日本"))
        // A prefix may end inside a grapheme: "cafe*" matches the NFD form, not the NFC one.
        #expect(policy.allows(["r"], "boire", decomposed))
        #expect(!policy.allows(["r"], "boire", composed))
    }

    @Test func exactAndPrefixRulesOfManyShapesAgreeWithALinearScan() throws {
        // The index (exact map + first-byte buckets + match-all) must find what a scan of every rule finds.
        var generator = SystemRandomNumberGenerator()
        let alphabet = ["a", "b", "ab", "", "é", "a/"]
        func word() -> String { (0..<Int.random(in: 0...3, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined() }
        var csv = ""
        var rules: [(resource: String, action: String, deny: Bool)] = []
        for _ in 0..<300 {
            let resource = word() + (Bool.random(using: &generator) ? "*" : "")
            let action = word() + (Int.random(in: 0..<3, using: &generator) == 0 ? "*" : "")
            let deny = Int.random(in: 0..<5, using: &generator) == 0
            csv += "p, r, \(resource), \(action)\(deny ? ", deny" : "")\n"
            rules.append((resource, action, deny))
        }
        let policy = try Policy.compile([PolicySource(name: "r.csv", contents: csv)])
        func keyMatch(_ value: String, _ pattern: String) -> Bool {
            guard pattern.hasSuffix("*") else { return Array(value.utf8) == Array(pattern.utf8) }
            return Array(value.utf8).starts(with: Array(pattern.utf8.dropLast()))
        }
        for _ in 0..<2_000 {
            let resource = word()
            let action = word()
            let matching = rules.filter { keyMatch(resource, $0.resource) && keyMatch(action, $0.action) }
            let expected = matching.contains { !$0.deny } && !matching.contains { $0.deny }
            #expect(policy.allows(["r"], action, resource) == expected, "\(action) on \(resource)")
        }
    }

    @Test func versionIsStableAndChangesWithAnyByteOrName() throws {
        let text = Self.designExample
        let first = try yamlPolicy(text).version
        #expect(first.count == 16)
        #expect(try yamlPolicy(text).version == first)
        #expect(try yamlPolicy(text + " ").version != first)
        #expect(try Policy.compile([PolicySource(name: "other.yaml", contents: text)]).version != first)
    }

    @Test func loadReadsOnlyPolicyFilesOfTheDirectoryInNameOrder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/nested", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "roles:\n  viewer:\n    allow: [\"x:read\"]\n".write(toFile: directory + "/b.yml", atomically: true, encoding: .utf8)
        try "p, viewer, y, read\n".write(toFile: directory + "/a.csv", atomically: true, encoding: .utf8)
        try "not: [a policy".write(toFile: directory + "/README.md", atomically: true, encoding: .utf8)
        try "roles:\n  viewer: {}\n".write(toFile: directory + "/nested/c.yaml", atomically: true, encoding: .utf8)
        let policy = try Policy.load(directory: directory)
        #expect(policy.roleNames == ["viewer"])
        #expect(policy.rules(of: "viewer", inherited: false).map(\.location) == ["a.csv:1", "b.yml:3"])
    }

    @Test func shippedExamplePoliciesLoadAndSayWhatTheirCommentsClaim() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let policy = try Policy.load(directory: repository.appendingPathComponent("Policies").path)
        #expect(policy.allows(["editor"], "write", "documents/plan"))
        #expect(!policy.allows(["editor"], "read", "documents/secret/salaries"))
        #expect(policy.allows(["admin"], "anything", "anywhere"))
        #expect(policy.allows(["authz-checker"], "check", "portcullis/authz"))
        #expect(!policy.allows(["editor"], "check", "portcullis/authz"))
        #expect(policy.effectiveRoles(subject: "svc-billing", grantedRoles: []) == ["billing-reader", "viewer"])
        #expect(policy.allows([], "read", "invoices/2026/11", subject: "svc-billing"))
        #expect(!policy.allows(["billing-admin"], "delete", "invoices/archive/2020"))
        #expect(policy.allows(["billing-admin"], "delete", "invoices/2026/11"))
    }
}
