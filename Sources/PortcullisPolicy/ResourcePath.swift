/// The canonical form of a requested resource (issue 13).
///
/// Rules match resources by Casbin's keyMatch, byte for byte: `documents/*` allows
/// `documents/./secret/x`, while a deny on `documents/secret/*` does not see it. A backend
/// that normalises paths would then serve `documents/secret/x` under an allow that was
/// never meant for it. Refusing every resource with an empty, `.` or `..` segment leaves
/// keyMatch exact on what is left, and no `.`, `..` or `//` spelling reaches a path under a
/// name the deny rules do not cover. (Percent-encoding, case and Unicode normalisation are
/// the backend's to refuse: the bytes here are compared as given.)
///
/// A leading or trailing `/` is an empty first or last segment and is refused too: no
/// shipped policy or test relies on one, and `documents/x/` could be normalised to
/// `documents/x` just as `documents//x` could.
///
/// ```swift
/// ResourcePath.canonicalityViolation("documents/secret/x")   // nil
/// ResourcePath.canonicalityViolation("documents/../x")       // "resource \"documents/../x\" is not canonical: …"
/// ```
public enum ResourcePath {
    /// The rule every canonical resource obeys, quoted in each violation message.
    public static let rule = #"resources may not have empty, "." or ".." segments"#

    /// nil when `resource` is canonical; else a message naming the resource and the rule it breaks.
    ///
    /// Segments are the pieces between `/`. The resource is quoted as given, control characters
    /// and all: escape the message for where it goes (the CLI's terminal output, the log handler
    /// and JSON responses each do), so it is never escaped twice.
    /// - Parameter resource: the resource of an authorization question.
    public static func canonicalityViolation(_ resource: String) -> String? {
        guard let problem = problem(resource) else { return nil }
        return "resource \"\(resource)\" is not canonical: \(problem) (\(rule))"
    }

    /// True when `resource` has no empty, `.` or `..` segment.
    public static func isCanonical(_ resource: String) -> Bool {
        problem(resource) == nil
    }

    private static func problem(_ resource: String) -> String? {
        // Compared on UTF-8 bytes, as keyMatch compares: "." is the byte 0x2E, nothing that merely looks like it.
        for segment in resource.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty { return resource.isEmpty ? "it is empty" : "it has an empty segment" }
            if segment.elementsEqual(".".utf8) { return #"it has a "." segment"# }
            if segment.elementsEqual("..".utf8) { return #"it has a ".." segment"# }
        }
        return nil
    }
}
