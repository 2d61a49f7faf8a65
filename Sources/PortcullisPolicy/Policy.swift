import Foundation

/// A compiled, immutable RBAC policy: Casbin's `rbac_with_deny` with keyMatch on resource and action.
///
/// Load it from a directory of `*.yaml`/`*.csv` files, then ask it questions:
/// ```swift
/// let policy = try Policy.load(directory: "Policies")
/// let decision = policy.decide(subject: "alice", grantedRoles: ["editor"], action: "write", resource: "documents/plan")
/// print(decision.allowed, decision.reason)   // true allowed by documents.yaml:6 (editor allow documents/*:write)
/// ```
/// Inheritance is closed once per role at load; each role's rules are indexed by exact
/// resource and by the first byte of wildcard prefixes, so a decision touches few rules.
public final class Policy: Sendable {
    /// A stable hash of every file's name and content (FNV-1a 64, hex): changes with any byte.
    public let version: String
    /// Every role, sorted.
    public let roleNames: [String]

    let rules: [PolicyRule]
    let roleIDs: [String: Int]
    /// Per role, the bit set of itself and every role it inherits (`wordsPerRole` words each, flat).
    let closureBits: [UInt64]
    let wordsPerRole: Int
    let index: ResourceIndex
    let bindingIDs: [String: [Int]]

    /// Loads every `*.yaml`, `*.yml` and `*.csv` file in `directory` (not recursive), by name order.
    public static func load(directory: String) throws -> Policy {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw PolicyLoadError(issues: [PolicyIssue(file: directory, line: 0, message: "cannot read the policy directory")])
        }
        var sources: [PolicySource] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".csv") {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
                throw PolicyLoadError(issues: [PolicyIssue(file: name, line: 0, message: "cannot read the file")])
            }
            sources.append(PolicySource(name: name, contents: String(decoding: data, as: UTF8.self)))
        }
        return try compile(sources)
    }

    /// Compiles sources (already in the order they should be read); throws `PolicyLoadError` with every issue.
    public static func compile(_ sources: [PolicySource]) throws -> Policy {
        var parsed = PolicyParser.parse(sources)
        let compiled = PolicyCompiler.compile(&parsed)
        guard parsed.issues.isEmpty, let compiled else {
            throw PolicyLoadError(issues: parsed.issues.sorted { ($0.file, $0.line, $0.message) < ($1.file, $1.line, $1.message) })
        }
        return Policy(compiled, version: Self.fingerprint(sources))
    }

    init(_ compiled: PolicyCompiler.Output, version: String) {
        self.version = version
        self.roleNames = compiled.roleNames
        self.rules = compiled.rules
        self.roleIDs = compiled.roleIDs
        self.bindingIDs = compiled.bindings
        let words = max(1, (compiled.roleNames.count + 63) / 64)
        var bits = [UInt64](repeating: 0, count: words * compiled.roleNames.count)
        for (role, closure) in compiled.closures.enumerated() {
            for member in closure { bits[role * words + member / 64] |= 1 << UInt64(member % 64) }
        }
        self.wordsPerRole = words
        self.closureBits = bits
        self.index = ResourceIndex(rules: compiled.rules, roleIDs: compiled.roleIDs)
    }

    /// True when some file defines `role`.
    public func defines(role: String) -> Bool {
        roleIDs[role] != nil
    }

    /// The roles statically bound to `subject` (YAML bindings and CSV `g` lines), sorted.
    public func bindings(of subject: String) -> [String] {
        (bindingIDs[subject] ?? []).map { roleNames[$0] }.sorted()
    }

    /// Granted roles plus bindings, closed under inheritance, sorted. Undefined granted roles are ignored.
    public func effectiveRoles(subject: String, grantedRoles: [String]) -> [String] {
        roles(for: topRoles(subject: subject, grantedRoles: grantedRoles))
    }

    /// Allowed iff some allow rule of the subject's roles matches and no deny rule does.
    ///
    /// One pass over the resource's bytes finds the candidate rules (exact key and every `*` prefix
    /// of it); each candidate costs a bit test for its role and a comparison of its action.
    public func decide(subject: String, grantedRoles: [String], action: String, resource: String) -> PolicyDecision {
        let top = topRoles(subject: subject, grantedRoles: grantedRoles)
        guard !top.isEmpty else { return PolicyDecision(allowed: false, decidingRule: nil, policy: self, topRoles: top) }
        let (deny, allow): (Int, Int) = closureBits.withUnsafeBufferPointer { all in
            if top.count == 1 {
                let words = UnsafeBufferPointer(rebasing: all[top[0] * wordsPerRole..<(top[0] + 1) * wordsPerRole])
                return index.firstMatches(resource: resource, action: action, roles: words)
            }
            return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: wordsPerRole) { union in
                union.initialize(repeating: 0)
                for role in top {
                    for word in 0..<wordsPerRole { union[word] |= all[role * wordsPerRole + word] }
                }
                return index.firstMatches(resource: resource, action: action, roles: UnsafeBufferPointer(union))
            }
        }
        if deny != Int.max { return PolicyDecision(allowed: false, decidingRule: rules[deny], policy: self, topRoles: top) }
        return PolicyDecision(allowed: allow != Int.max, decidingRule: allow == Int.max ? nil : rules[allow], policy: self, topRoles: top)
    }

    /// A role's rules in file order; with `inherited`, those of every role it inherits too.
    public func rules(of role: String, inherited: Bool) -> [PolicyRule] {
        guard let id = roleIDs[role] else { return [] }
        let members = Set(inherited ? roles(for: [id]) : [role])
        return rules.filter { members.contains($0.role) }
    }

    @inline(__always)
    func topRoles(subject: String, grantedRoles: [String]) -> [Int] {
        var top: [Int] = []
        for role in grantedRoles {
            if let id = roleIDs[role], !top.contains(id) { top.append(id) }
        }
        if let bound = bindingIDs[subject] {
            for id in bound where !top.contains(id) { top.append(id) }
        }
        return top
    }

    /// The names of `top` and everything they inherit, sorted (role ids follow name order).
    func roles(for top: [Int]) -> [String] {
        guard !top.isEmpty else { return [] }
        var names: [String] = []
        for word in 0..<wordsPerRole {
            var bits: UInt64 = 0
            for role in top { bits |= closureBits[role * wordsPerRole + word] }
            while bits != 0 {
                names.append(roleNames[word * 64 + bits.trailingZeroBitCount])
                bits &= bits - 1
            }
        }
        return names
    }

    static func fingerprint(_ sources: [PolicySource]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for source in sources.sorted(by: { $0.name < $1.name }) {
            for byte in source.name.utf8 + [0] + source.contents.utf8 + [0] {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Every rule, found by resource: exact keys and `*` prefixes in one open-addressing hash table over
/// UTF-8 bytes, probed once per prefix length that some rule uses while hashing the resource.
struct ResourceIndex: Sendable {
    /// One rule as the lookup needs it.
    struct Entry: Sendable {
        let number: Int
        let role: Int
        let action: Pattern
        let deny: Bool
    }

    /// A distinct (bytes, exact-or-prefix) key and its rules in rule order.
    struct Key: Sendable {
        let hash: UInt64
        let bytes: [UInt8]
        let isPrefix: Bool
        let entries: [Entry]
    }

    let keys: [Key]
    /// Open addressing, power-of-two size; -1 is empty, otherwise an index into `keys`.
    let slots: [Int32]
    /// `usedPrefixLength[n]`: some prefix rule has an n-byte prefix (n ≤ `maximumPrefixLength`).
    let usedPrefixLength: [Bool]
    let maximumPrefixLength: Int

    static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3
    static let prefixTag: UInt64 = 0x9e37_79b9_7f4a_7c15

    init(rules: [PolicyRule], roleIDs: [String: Int]) {
        var grouped: [String: Int] = [:]  // "P" or "E" + bytes, to key index
        var building: [(bytes: [UInt8], isPrefix: Bool, entries: [Entry])] = []
        var used = [Bool](repeating: false, count: 1)
        for (number, rule) in rules.enumerated() {
            let permission = try! Permission(resource: rule.resource, action: rule.action)
            let (bytes, isPrefix): ([UInt8], Bool) = switch permission.resource {
            case .exact(let text): (Array(text.utf8), false)
            case .prefix(let text): (Array(text.utf8), true)
            }
            if isPrefix {
                if bytes.count >= used.count { used += [Bool](repeating: false, count: bytes.count + 1 - used.count) }
                used[bytes.count] = true
            }
            let entry = Entry(number: number, role: roleIDs[rule.role]!, action: permission.action, deny: rule.effect == .deny)
            // Group by bytes, not by String equality (which is canonical equivalence).
            let groupKey = (isPrefix ? "P" : "E") + bytes.map { String($0, radix: 16) }.joined(separator: ".")
            if let existing = grouped[groupKey] {
                building[existing].entries.append(entry)
            } else {
                grouped[groupKey] = building.count
                building.append((bytes, isPrefix, [entry]))
            }
        }
        keys = building.map { Key(hash: Self.hash($0.bytes, isPrefix: $0.isPrefix), bytes: $0.bytes, isPrefix: $0.isPrefix, entries: $0.entries) }
        var size = 16
        while size < keys.count * 2 { size *= 2 }
        var table = [Int32](repeating: -1, count: size)
        for (number, key) in keys.enumerated() {
            var slot = Int(truncatingIfNeeded: key.hash) & (size - 1)
            while table[slot] != -1 { slot = (slot + 1) & (size - 1) }
            table[slot] = Int32(number)
        }
        slots = table
        usedPrefixLength = used
        maximumPrefixLength = used.count - 1
    }

    static func hash(_ bytes: [UInt8], isPrefix: Bool) -> UInt64 {
        var hash = offset
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* prime }
        return finish(hash, isPrefix: isPrefix)
    }

    @inline(__always)
    static func finish(_ hash: UInt64, isPrefix: Bool) -> UInt64 {
        let tagged = isPrefix ? hash ^ prefixTag : hash
        return tagged ^ (tagged >> 29)
    }

    /// The lowest matching deny and allow rule numbers among rules of `roles`, or `Int.max`.
    @inline(__always)
    func firstMatches(resource: String, action: String, roles: UnsafeBufferPointer<UInt64>) -> (deny: Int, allow: Int) {
        var resource = resource
        return resource.withUTF8 { bytes in
            var deny = Int.max
            var allow = Int.max
            @inline(__always) func visit(_ key: Key) {
                for entry in key.entries {
                    if entry.number >= (entry.deny ? deny : allow) { continue }
                    guard roles[entry.role >> 6] & (1 << UInt64(entry.role & 63)) != 0, entry.action.matches(action) else { continue }
                    if entry.deny { deny = entry.number } else { allow = entry.number }
                }
            }
            @inline(__always) func probe(_ hash: UInt64, length: Int, isPrefix: Bool) {
                let mask = slots.count - 1
                var slot = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let found = Int(slots[slot])
                    if found < 0 { return }
                    let key = keys[found]
                    if key.hash == hash, key.isPrefix == isPrefix, key.bytes.count == length,
                       length == 0 || key.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress!, length) == 0 }) {
                        visit(key)
                        return
                    }
                    slot = (slot + 1) & mask
                }
            }
            var hash = Self.offset
            if usedPrefixLength[0] { probe(Self.finish(hash, isPrefix: true), length: 0, isPrefix: true) }
            let limit = min(bytes.count, maximumPrefixLength)
            var position = 0
            while position < bytes.count {
                hash = (hash ^ UInt64(bytes[position])) &* Self.prime
                position += 1
                if position <= limit, usedPrefixLength[position] {
                    probe(Self.finish(hash, isPrefix: true), length: position, isPrefix: true)
                }
            }
            probe(Self.finish(hash, isPrefix: false), length: bytes.count, isPrefix: false)
            return (deny, allow)
        }
    }
}
