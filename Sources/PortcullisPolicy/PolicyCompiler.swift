/// Cross-file validation and the inheritance closure.
enum PolicyCompiler {
    struct Output {
        let roleNames: [String]
        let roleIDs: [String: Int]
        let rules: [PolicyRule]
        let rulesByRole: [[Int]]
        let closures: [[Int]]
        let bindings: [String: [Int]]
    }

    static func compile(_ parsed: inout ParsedPolicy) -> Output? {
        // Roles: YAML definitions (each once) and roles that CSV `p` lines mention.
        var firstDefinition: [String: ParsedPolicy.RoleDefinition] = [:]
        for definition in parsed.definitions {
            if let first = firstDefinition[definition.name] {
                parsed.issues.append(PolicyIssue(file: definition.file, line: definition.line,
                                                 message: "role \(definition.name) defined twice (first at \(first.file):\(first.line))"))
            } else {
                firstDefinition[definition.name] = definition
            }
        }
        var names = Set(firstDefinition.keys)
        for role in parsed.csvRoles { names.insert(role.name) }
        let roleNames = names.sorted()
        let roleIDs = Dictionary(uniqueKeysWithValues: roleNames.enumerated().map { ($1, $0) })

        var parents = [[Int]](repeating: [], count: roleNames.count)
        var edgeSites: [Int: [Int: ParsedPolicy.Edge]] = [:]
        var bindings: [String: [Int]] = [:]
        func unknown(_ edge: ParsedPolicy.Edge, _ context: String) {
            parsed.issues.append(PolicyIssue(file: edge.file, line: edge.line, message: "unknown role \(edge.to) in \(context)"))
        }
        for edge in parsed.inherits {
            guard let child = roleIDs[edge.from], let parent = roleIDs[edge.to] else { unknown(edge, "inherits of \(edge.from)"); continue }
            parents[child].append(parent)
            edgeSites[child, default: [:]][parent] = edge
        }
        for edge in parsed.groupings {
            guard let target = roleIDs[edge.to] else { unknown(edge, "g line"); continue }
            if let child = roleIDs[edge.from] {
                parents[child].append(target)
                edgeSites[child, default: [:]][target] = edge
            } else {
                bindings[edge.from, default: []].append(target)
            }
        }
        for edge in parsed.bindings {
            guard let target = roleIDs[edge.to] else { unknown(edge, "bindings of \(edge.from)"); continue }
            bindings[edge.from, default: []].append(target)
        }

        let search = depthFirst(parents)
        if let cycle = search.cycle {
            let names = cycle.map { roleNames[$0] }
            let closing = edgeSites[cycle[cycle.count - 2]]?[cycle[cycle.count - 1]]
            parsed.issues.append(PolicyIssue(file: closing?.file ?? "?", line: closing?.line ?? 0,
                                             message: "inheritance cycle: \(names.joined(separator: " -> "))"))
        }
        guard parsed.issues.isEmpty else { return nil }

        var rules: [PolicyRule] = []
        var rulesByRole = [[Int]](repeating: [], count: roleNames.count)
        for raw in parsed.rules {
            let rule = PolicyRule(role: raw.role, resource: raw.permission.resource.text, action: raw.permission.action.text,
                                  effect: raw.effect, file: raw.file, line: raw.line)
            rulesByRole[roleIDs[raw.role]!].append(rules.count)
            rules.append(rule)
        }

        // Parents come before children in post-order, so each closure is built from finished ones.
        // Role ids follow name order, so sorting ids sorts names.
        var closures = [[Int]](repeating: [], count: roleNames.count)
        for role in search.postOrder {
            var members = [role]
            for parent in parents[role] { members = mergeSorted(members, closures[parent]) }
            closures[role] = members
        }
        let allClosures = closures
        return Output(roleNames: roleNames, roleIDs: roleIDs, rules: rules, rulesByRole: rulesByRole,
                      closures: allClosures, bindings: bindings.mapValues { Array(Set($0)).sorted() })
    }

    /// An iterative depth-first search over `parents` (no recursion: chains may be thousands deep).
    ///
    /// Returns a cycle as a path that starts and ends at the same role, or every role in post-order.
    static func depthFirst(_ parents: [[Int]]) -> (cycle: [Int]?, postOrder: [Int]) {
        var state = [UInt8](repeating: 0, count: parents.count)  // 0 new, 1 on the path, 2 done
        var postOrder: [Int] = []
        postOrder.reserveCapacity(parents.count)
        var path: [(node: Int, next: Int)] = []
        for root in parents.indices where state[root] == 0 {
            state[root] = 1
            path.append((root, 0))
            while let top = path.last {
                if top.next < parents[top.node].count {
                    path[path.count - 1].next += 1
                    let parent = parents[top.node][top.next]
                    switch state[parent] {
                    case 0:
                        state[parent] = 1
                        path.append((parent, 0))
                    case 1:
                        let start = path.firstIndex { $0.node == parent }!
                        return (path[start...].map(\.node) + [parent], [])
                    default:
                        break
                    }
                } else {
                    state[top.node] = 2
                    postOrder.append(top.node)
                    path.removeLast()
                }
            }
        }
        return (nil, postOrder)
    }

    /// The union of two sorted, duplicate-free arrays, sorted and duplicate-free.
    static func mergeSorted(_ left: [Int], _ right: [Int]) -> [Int] {
        var merged: [Int] = []
        merged.reserveCapacity(left.count + right.count)
        var i = 0, j = 0
        while i < left.count, j < right.count {
            if left[i] < right[j] { merged.append(left[i]); i += 1 }
            else if left[i] > right[j] { merged.append(right[j]); j += 1 }
            else { merged.append(left[i]); i += 1; j += 1 }
        }
        merged.append(contentsOf: left[i...])
        merged.append(contentsOf: right[j...])
        return merged
    }
}
