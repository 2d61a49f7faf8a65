import PortcullisPolicy
import Testing

@Suite struct ResourcePathTests {
    @Test(arguments: [
        ("documents/./secret/x", #"it has a "." segment"#),
        ("documents//secret/x", "it has an empty segment"),
        ("documents/a/../secret/x", #"it has a ".." segment"#),
        ("..", #"it has a ".." segment"#),
        (".", #"it has a "." segment"#),
        ("", "it is empty"),
        ("/documents/x", "it has an empty segment"),
        ("documents/x/", "it has an empty segment"),
        ("/", "it has an empty segment"),
        ("documents/..", #"it has a ".." segment"#),
    ])
    func nonCanonicalResourcesAreRefusedWithTheRuleNamed(resource: String, problem: String) throws {
        let message = try #require(ResourcePath.canonicalityViolation(resource), "\(resource) must be refused")
        #expect(message == #"resource "\#(resource)" is not canonical: \#(problem) (resources may not have empty, "." or ".." segments)"#)
        #expect(!ResourcePath.isCanonical(resource))
    }

    @Test(arguments: [
        "documents/secret/x", "documents", "portcullis/authz", "billing/42", "x",
        "...", ".hidden/a..b", "日本/文書", "cafe\u{301}", "documents/*",
    ])
    func canonicalResourcesPass(resource: String) {
        #expect(ResourcePath.canonicalityViolation(resource) == nil)
        #expect(ResourcePath.isCanonical(resource))
    }

    @Test func theMessageForTheIssuesExampleNamesTheEmptySegmentRule() {
        #expect(ResourcePath.canonicalityViolation("documents//x")
                == #"resource "documents//x" is not canonical: it has an empty segment (resources may not have empty, "." or ".." segments)"#)
    }
}
