import PortcullisPolicy
import Testing

/// Every validation error names its file and line, and nothing of a rejected policy is usable.
@Suite struct ValidationTests {
    @Test func starInTheMiddleOfAResourceOrActionIsAnErrorAtItsLine() {
        let found = yamlIssues("""
            roles:
              viewer:
                allow:
                  - "documents/*:read"
                  - "doc*s:read"
                  - "documents:re*d"
                  - "**:read"
            """)
        #expect(found.map(\.line) == [5, 6, 7])
        #expect(found.allSatisfy { $0.file == "main.yaml" && $0.message.contains("'*' is only allowed at the end") })
    }

    @Test func unknownRoleInInheritsIsAnErrorAtItsLine() {
        let found = yamlIssues("""
            roles:
              viewer:
                allow: ["documents/*:read"]
              editor:
                inherits:
                  - viewer
                  - reviewer
            """)
        #expect(found == [PolicyIssue(file: "main.yaml", line: 7, message: "unknown role reviewer in inherits of editor")])
    }

    @Test func inheritanceCycleIsAnErrorAtTheEdgeThatClosesIt() {
        let found = yamlIssues("""
            roles:
              a:
                inherits: [b]
              b:
                inherits: [c]
              c:
                inherits: [a]
            """)
        #expect(found.count == 1)
        let issue = try! #require(found.first)
        #expect(issue.message.hasPrefix("inheritance cycle: "))
        #expect(["a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"].contains { issue.message.hasSuffix($0) })
        #expect([3, 5, 7].contains(issue.line))
    }

    @Test func roleInheritingItselfIsACycle() {
        let found = yamlIssues("roles:\n  loop:\n    inherits: [loop]\n")
        #expect(found == [PolicyIssue(file: "main.yaml", line: 3, message: "inheritance cycle: loop -> loop")])
    }

    @Test func cycleThroughCSVGroupingLinesIsReportedAtTheGLine() {
        let found = issues([PolicySource(name: "rules.csv", contents: "p, a, x, read\np, b, y, read\ng, a, b\n# comment\ng, b, a\n")])
        #expect(found.count == 1)
        #expect(found.first?.file == "rules.csv")
        #expect([3, 5].contains(found.first?.line ?? 0))
        #expect(found.first?.message.hasPrefix("inheritance cycle:") == true)
    }

    @Test func roleDefinedInTwoFilesIsAnErrorAtTheSecondWithTheFirstNamed() {
        let found = issues([
            PolicySource(name: "a.yaml", contents: "roles:\n  viewer:\n    allow: [\"x:read\"]\n"),
            PolicySource(name: "b.yaml", contents: "# second\nroles:\n  other: {}\n  viewer:\n    allow: [\"y:read\"]\n"),
        ])
        #expect(found == [PolicyIssue(file: "b.yaml", line: 4, message: "role viewer defined twice (first at a.yaml:2)")])
    }

    @Test func roleKeyTwiceInOneYAMLFileIsAnErrorAtTheSecond() {
        let found = yamlIssues("""
            roles:
              viewer:
                allow: ["x:read"]
              editor:
                allow: ["x:write"]
              viewer:
                allow: ["y:read"]
            """)
        #expect(found.count == 1)
        #expect(found.first?.line == 6)
        #expect(found.first?.message.contains("viewer") == true)
    }

    @Test(arguments: [
        ("p, viewer, documents/*\n", 1),
        ("# fine\np, viewer, documents/*, read, allow, extra\n", 2),
        ("p, viewer, documents/*, read, maybe\n", 1),
        ("x, viewer, documents/*, read\n", 1),
        ("p, viewer, documents/*, read\ng, alice\n", 2),
        ("p, viewer, documents/*, read\n\ng, , viewer\n", 3),
        ("p, , documents/*, read\n", 1),
    ])
    func malformedCSVLineIsAnErrorAtItsLine(text: String, line: Int) {
        let found = issues([PolicySource(name: "rules.csv", contents: text)])
        #expect(found.count == 1)
        #expect(found.first?.file == "rules.csv")
        #expect(found.first?.line == line)
        #expect(found.first?.message.hasPrefix("malformed CSV line") == true)
    }

    @Test func starInTheMiddleOfACSVFieldIsAnError() {
        let found = issues([PolicySource(name: "rules.csv", contents: "p, viewer, doc*/x, read\np, viewer, docs, r*d\n")])
        #expect(found.map(\.line) == [1, 2])
    }

    @Test(arguments: [
        ("roles:\n  viewer:\n    allow: \"documents/*:read\"\n", 3, "viewer.allow must be a list of strings"),
        ("roles:\n  viewer:\n    allow:\n      - {documents: read}\n", 4, "viewer.allow must be a list of strings"),
        ("roles:\n  - viewer\n", 2, "roles must be a mapping of role names"),
        ("roles:\n  viewer: [read]\n", 2, "role viewer must be a mapping with inherits, allow, deny"),
        ("- roles\n", 1, "expected a mapping with 'roles' and optional 'bindings'"),
        ("roles: {}\nbindings:\n  svc: viewer\n", 3, "bindings.svc must be a list of strings"),
        ("rolez:\n  viewer: {}\n", 1, "unknown key 'rolez': expected roles or bindings"),
        ("roles:\n  viewer:\n    allow: [\"x:read\"]\n    alow: [\"y:read\"]\n", 4, "unknown key 'alow' in role viewer: expected inherits, allow or deny"),
    ])
    func yamlTypeErrorIsAnErrorAtItsLine(text: String, line: Int, message: String) {
        #expect(yamlIssues(text) == [PolicyIssue(file: "main.yaml", line: line, message: message)])
    }

    @Test func yamlSyntaxErrorNamesALineNearTheProblem() {
        let found = yamlIssues("roles:\n  viewer:\n    allow: [\"x:read\"\n  editor: {}\n")
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("YAML error") == true)
        #expect((3...5).contains(found.first?.line ?? 0))
    }

    @Test func permissionWithoutAColonIsAnError() {
        #expect(yamlIssues("roles:\n  viewer:\n    deny: [\"documents\"]\n")
            == [PolicyIssue(file: "main.yaml", line: 3, message: "permission must be RESOURCE:ACTION (no colon found): 'documents'")])
    }

    @Test func unknownRoleInABindingIsAnError() {
        #expect(yamlIssues("roles:\n  viewer: {}\nbindings:\n  svc-billing: [viewer, billing]\n")
            == [PolicyIssue(file: "main.yaml", line: 4, message: "unknown role billing in bindings of svc-billing")])
    }

    @Test func everyIssueOfEveryFileIsReportedInFileAndLineOrder() {
        let found = issues([
            PolicySource(name: "b.csv", contents: "p, x, y\n"),
            PolicySource(name: "a.yaml", contents: "roles:\n  r:\n    inherits: [nope]\n    allow: [\"a*b:read\"]\n"),
        ])
        #expect(found.map(\.description).map { String($0.prefix(8)) } == ["a.yaml:3", "a.yaml:4", "b.csv:1:"])
    }

    @Test func missingDirectoryIsAnError() {
        #expect(throws: PolicyLoadError.self) { try Policy.load(directory: "/nonexistent/portcullis-policies") }
    }

    @Test func emptyFilesAndEmptySectionsAreAValidEmptyPolicy() throws {
        let policy = try Policy.compile([
            PolicySource(name: "a.yaml", contents: ""),
            PolicySource(name: "b.yaml", contents: "roles:\nbindings:\n"),
            PolicySource(name: "c.csv", contents: "# nothing\n\n"),
        ])
        #expect(policy.roleNames.isEmpty)
        #expect(!policy.allows(["viewer"], "read", "x"))
    }
}
