/// One side of a permission: an exact string, or a prefix followed by `*` (Casbin's keyMatch).
enum Pattern: Hashable, Sendable {
    case exact(String)
    case prefix(String)

    /// Parses one side; a `*` anywhere but at the end is an error.
    init(_ text: Substring) throws(PatternError) {
        guard let star = text.firstIndex(of: "*") else {
            self = .exact(String(text))
            return
        }
        guard star == text.index(before: text.endIndex) else { throw .misplacedStar }
        self = .prefix(String(text[..<star]))
    }

    /// keyMatch: exact equality, or the value starts with the prefix ("a*" matches "a").
    ///
    /// Compares UTF-8 bytes, as Casbin does: canonically equivalent but differently encoded
    /// strings (NFC vs NFD) are different keys, and a prefix may end inside a grapheme.
    @inline(__always)
    func matches(_ value: String) -> Bool {
        switch self {
        case .exact(let exact): value.utf8.elementsEqual(exact.utf8)
        case .prefix(let prefix): prefix.isEmpty || value.utf8.starts(with: prefix.utf8)
        }
    }

    var text: String {
        switch self {
        case .exact(let exact): exact
        case .prefix(let prefix): prefix + "*"
        }
    }
}

enum PatternError: Error {
    case misplacedStar
}

/// A parsed `RESOURCE:ACTION`: split at the last colon; a bare `*` means `*:*`.
struct Permission: Hashable, Sendable {
    let resource: Pattern
    let action: Pattern

    init(_ text: String) throws(PermissionError) {
        if text == "*" {
            resource = .prefix("")
            action = .prefix("")
            return
        }
        guard let colon = text.lastIndex(of: ":") else { throw .noColon }
        do {
            resource = try Pattern(text[..<colon])
            action = try Pattern(text[text.index(after: colon)...])
        } catch {
            throw .misplacedStar
        }
    }

    init(resource: String, action: String) throws(PermissionError) {
        do {
            self.resource = try Pattern(Substring(resource))
            self.action = try Pattern(Substring(action))
        } catch {
            throw .misplacedStar
        }
    }
}

enum PermissionError: Error {
    case noColon
    case misplacedStar

    var message: String {
        switch self {
        case .noColon: "permission must be RESOURCE:ACTION (no colon found)"
        case .misplacedStar: "'*' is only allowed at the end of a resource or action"
        }
    }
}
