import Foundation
import Yams

/// What the files say, before validation across files.
struct ParsedPolicy {
    struct RoleDefinition { let name: String; let file: String; let line: Int }
    struct Edge { let from: String; let to: String; let file: String; let line: Int }
    struct RawRule { let role: String; let permission: Permission; let effect: PolicyEffect; let file: String; let line: Int }

    var definitions: [RoleDefinition] = []
    /// Roles that CSV `p` lines or the right side of `g` lines mention: they exist without a definition site.
    var csvRoles: [RoleDefinition] = []
    var inherits: [Edge] = []
    /// `g` lines: inheritance when the left side is a role, a static binding otherwise.
    var groupings: [Edge] = []
    var bindings: [Edge] = []
    var rules: [RawRule] = []
    var issues: [PolicyIssue] = []
}

/// Reads YAML and Casbin-style CSV policy files into a `ParsedPolicy`.
enum PolicyParser {
    static func parse(_ sources: [PolicySource]) -> ParsedPolicy {
        var parsed = ParsedPolicy()
        for source in sources {
            if source.name.hasSuffix(".csv") {
                parseCSV(source, into: &parsed)
            } else {
                parseYAML(source, into: &parsed)
            }
        }
        return parsed
    }

    // MARK: CSV

    static func parseCSV(_ source: PolicySource, into parsed: inout ParsedPolicy) {
        for (index, rawLine) in source.contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let text = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, !text.hasPrefix("#") else { continue }
            let fields = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func issue(_ message: String) {
                parsed.issues.append(PolicyIssue(file: source.name, line: line, message: message))
            }
            switch fields[0] {
            case "p":
                guard fields.count == 4 || fields.count == 5 else {
                    issue("malformed CSV line: expected 'p, ROLE, RESOURCE, ACTION[, allow|deny]'")
                    continue
                }
                guard !fields[1].isEmpty else { issue("malformed CSV line: empty role"); continue }
                let effect: PolicyEffect
                if fields.count == 5 {
                    guard let parsedEffect = PolicyEffect(rawValue: fields[4]) else {
                        issue("malformed CSV line: effect must be allow or deny, not '\(fields[4])'")
                        continue
                    }
                    effect = parsedEffect
                } else {
                    effect = .allow
                }
                do {
                    let permission = try Permission(resource: fields[2], action: fields[3])
                    parsed.rules.append(.init(role: fields[1], permission: permission, effect: effect, file: source.name, line: line))
                    parsed.csvRoles.append(.init(name: fields[1], file: source.name, line: line))
                } catch {
                    issue(error.message)
                }
            case "g":
                guard fields.count == 3, !fields[1].isEmpty, !fields[2].isEmpty else {
                    issue("malformed CSV line: expected 'g, SUBJECT_OR_ROLE, ROLE'")
                    continue
                }
                parsed.groupings.append(.init(from: fields[1], to: fields[2], file: source.name, line: line))
                // As in Casbin, the right side of a `g` line is a role even if no rule names it.
                parsed.csvRoles.append(.init(name: fields[2], file: source.name, line: line))
            default:
                issue("malformed CSV line: the first field must be p or g, not '\(fields[0])'")
            }
        }
    }

    // MARK: YAML

    static func parseYAML(_ source: PolicySource, into parsed: inout ParsedPolicy) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: source.contents)
        } catch let error as YamlError {
            parsed.issues.append(yamlIssue(error, source: source))
            return
        } catch {
            parsed.issues.append(PolicyIssue(file: source.name, line: 1, message: "YAML error: \(error)"))
            return
        }
        guard let root else { return }
        guard let top = root.mapping else {
            parsed.issues.append(PolicyIssue(file: source.name, line: line(root), message: "expected a mapping with 'roles' and optional 'bindings'"))
            return
        }
        for (key, value) in top {
            switch key.string {
            case "roles":
                parseRoles(value, source: source, into: &parsed)
            case "bindings":
                parseBindings(value, source: source, into: &parsed)
            default:
                parsed.issues.append(PolicyIssue(file: source.name, line: line(key), message: "unknown key '\(key.string ?? "?")': expected roles or bindings"))
            }
        }
    }

    static func parseRoles(_ node: Node, source: PolicySource, into parsed: inout ParsedPolicy) {
        if node.null != nil { return }
        guard let roles = node.mapping else {
            parsed.issues.append(PolicyIssue(file: source.name, line: line(node), message: "roles must be a mapping of role names"))
            return
        }
        for (key, body) in roles {
            guard let name = key.string, !name.isEmpty else {
                parsed.issues.append(PolicyIssue(file: source.name, line: line(key), message: "role name must be a string"))
                continue
            }
            parsed.definitions.append(.init(name: name, file: source.name, line: line(key)))
            if body.null != nil { continue }
            guard let fields = body.mapping else {
                parsed.issues.append(PolicyIssue(file: source.name, line: line(body), message: "role \(name) must be a mapping with inherits, allow, deny"))
                continue
            }
            for (field, value) in fields {
                guard let fieldName = field.string, ["inherits", "allow", "deny"].contains(fieldName) else {
                    parsed.issues.append(PolicyIssue(file: source.name, line: line(field), message: "unknown key '\(field.string ?? "?")' in role \(name): expected inherits, allow or deny"))
                    continue
                }
                guard let items = strings(value, what: "\(name).\(fieldName)", source: source, into: &parsed) else { continue }
                for (text, itemLine) in items {
                    switch fieldName {
                    case "inherits":
                        parsed.inherits.append(.init(from: name, to: text, file: source.name, line: itemLine))
                    default:
                        do {
                            let permission = try Permission(text)
                            parsed.rules.append(.init(role: name, permission: permission, effect: fieldName == "allow" ? .allow : .deny, file: source.name, line: itemLine))
                        } catch {
                            parsed.issues.append(PolicyIssue(file: source.name, line: itemLine, message: "\(error.message): '\(text)'"))
                        }
                    }
                }
            }
        }
    }

    static func parseBindings(_ node: Node, source: PolicySource, into parsed: inout ParsedPolicy) {
        if node.null != nil { return }
        guard let bindings = node.mapping else {
            parsed.issues.append(PolicyIssue(file: source.name, line: line(node), message: "bindings must map subjects to lists of roles"))
            return
        }
        for (key, value) in bindings {
            guard let subject = key.string, !subject.isEmpty else {
                parsed.issues.append(PolicyIssue(file: source.name, line: line(key), message: "binding subject must be a string"))
                continue
            }
            guard let roles = strings(value, what: "bindings.\(subject)", source: source, into: &parsed) else { continue }
            for (role, roleLine) in roles {
                parsed.bindings.append(.init(from: subject, to: role, file: source.name, line: roleLine))
            }
        }
    }

    /// A list of plain strings with their lines; a type error is recorded and nil returned.
    static func strings(_ node: Node, what: String, source: PolicySource, into parsed: inout ParsedPolicy) -> [(String, Int)]? {
        if node.null != nil { return [] }
        guard let sequence = node.sequence else {
            parsed.issues.append(PolicyIssue(file: source.name, line: line(node), message: "\(what) must be a list of strings"))
            return nil
        }
        var result: [(String, Int)] = []
        for item in sequence {
            guard case .scalar(let scalar) = item else {
                parsed.issues.append(PolicyIssue(file: source.name, line: line(item), message: "\(what) must be a list of strings"))
                return nil
            }
            result.append((scalar.string, line(item)))
        }
        return result
    }

    static func line(_ node: Node) -> Int {
        node.mark?.line ?? 1
    }

    /// Yams' errors carry a mark; a duplicate key is reported at its second occurrence.
    static func yamlIssue(_ error: YamlError, source: PolicySource) -> PolicyIssue {
        if case .duplicatedKeysInMapping(let duplicates, let context) = error {
            let key = duplicates.sorted().first ?? "?"
            var seen = 0
            for (index, text) in source.contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = text.drop { $0 == " " }
                if trimmed.hasPrefix(key + ":") || trimmed.hasPrefix("\"\(key)\":") {
                    seen += 1
                    if seen == 2 { return PolicyIssue(file: source.name, line: index + 1, message: "role \(key) defined twice in one file") }
                }
            }
            return PolicyIssue(file: source.name, line: context.mark.line, message: "key \(key) defined twice")
        }
        let text = "\(error)"
        var line = 1
        if let range = text.range(of: #"line (\d+)"#, options: .regularExpression) {
            line = Int(text[range].dropFirst(5)) ?? 1
        } else if let range = text.range(of: #"(\d+):\d+"#, options: .regularExpression) {
            line = Int(text[range].split(separator: ":")[0]) ?? 1
        }
        let summary = text.split(separator: "\n").first.map(String.init) ?? text
        return PolicyIssue(file: source.name, line: line, message: "YAML error: \(summary)")
    }
}
