// policy-bench: how fast is one in-process decision, and what does the library answer?
//
//   policy-bench [--roles N] [--rules N] [--queries N]
//       Generates a policy (default 1,000 roles, 10,000 rules, inheritance, wildcards, denies),
//       then times Policy.decide against a baseline measured in the same run: a linear scan
//       of every rule of the subject's roles (what an unindexed engine does).
//   policy-bench eval DIR
//       Loads DIR and answers JSON lines from stdin ({"subject", "roles", "action", "resource"})
//       with JSON lines ({"allowed", "rule"}): the library side of the pycasbin differential test.
//
// Build it in release for numbers: `swift build -c release --product policy-bench`.
import Foundation
import PortcullisPolicy

/// A small deterministic generator (SplitMix64), so every run measures the same policy.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct Query {
    let subject: String
    let roles: [String]
    let action: String
    let resource: String
}

struct GeneratedPolicy {
    let csv: String
    /// Per role: (resource pattern, action pattern, deny).
    let rulesByRole: [[(String, String, Bool)]]
    let parents: [[Int]]
}

func generate(roles: Int, rules: Int, random: inout SplitMix64) -> GeneratedPolicy {
    let actions = ["read", "write", "delete", "list", "admin", "export"]
    let areas = (0..<50).map { "area\($0)" }
    var csv = ""
    var rulesByRole = [[(String, String, Bool)]](repeating: [], count: roles)
    var parents = [[Int]](repeating: [], count: roles)
    for index in 0..<rules {
        let role = index < roles ? index : Int.random(in: 0..<roles, using: &random)
        let area = areas.randomElement(using: &random)!
        let resource: String
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<5: resource = "\(area)/doc\(Int.random(in: 0..<200, using: &random))"
        case 5..<9: resource = "\(area)/folder\(Int.random(in: 0..<20, using: &random))/*"
        default: resource = "\(area)/*"
        }
        let action = Int.random(in: 0..<8, using: &random) == 0 ? "*" : actions.randomElement(using: &random)!
        let deny = Int.random(in: 0..<10, using: &random) == 0
        rulesByRole[role].append((resource, action, deny))
        csv += "p, role\(role), \(resource), \(action)\(deny ? ", deny" : "")\n"
    }
    // Each role inherits up to two roles with smaller numbers: acyclic, chains up to ~10 deep on average.
    for role in 1..<roles {
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            let parent = Int.random(in: max(0, role - 50)..<role, using: &random)
            if !parents[role].contains(parent) {
                parents[role].append(parent)
                csv += "g, role\(role), role\(parent)\n"
            }
        }
    }
    return GeneratedPolicy(csv: csv, rulesByRole: rulesByRole, parents: parents)
}

func queries(count: Int, roles: Int, random: inout SplitMix64) -> [Query] {
    let actions = ["read", "write", "delete", "list", "admin", "export", "other"]
    return (0..<count).map { _ in
        let granted = (0..<Int.random(in: 1...3, using: &random)).map { _ in "role\(Int.random(in: 0..<roles, using: &random))" }
        let area = "area\(Int.random(in: 0..<55, using: &random))"
        let resource = Bool.random(using: &random)
            ? "\(area)/doc\(Int.random(in: 0..<220, using: &random))"
            : "\(area)/folder\(Int.random(in: 0..<22, using: &random))/file\(Int.random(in: 0..<100, using: &random))"
        return Query(subject: "user", roles: granted, action: actions.randomElement(using: &random)!, resource: resource)
    }
}

/// The baseline: no index, no precomputed closure; walk the inheritance graph and test every rule.
func linearScan(_ generated: GeneratedPolicy, _ query: Query) -> Bool {
    func keyMatch(_ value: String, _ pattern: String) -> Bool {
        guard pattern.utf8.last == UInt8(ascii: "*") else { return value == pattern }
        return value.utf8.starts(with: pattern.utf8.dropLast())
    }
    var seen = Set<Int>()
    var stack = query.roles.map { Int($0.dropFirst(4))! }
    var allowed = false
    while let role = stack.popLast() {
        guard seen.insert(role).inserted else { continue }
        for (resource, action, deny) in generated.rulesByRole[role] where keyMatch(query.resource, resource) && keyMatch(query.action, action) {
            if deny { return false }
            allowed = true
        }
        stack.append(contentsOf: generated.parents[role])
    }
    return allowed
}

/// Per-decision nanoseconds for each batch of `batch` queries, sorted.
func measure(batches: Int, batch: Int, queries: [Query], _ body: (Query) -> Bool) -> (samples: [Double], allowed: Int) {
    var samples: [Double] = []
    var allowed = 0
    var next = 0
    let clock = ContinuousClock()
    for _ in 0..<batches {
        let start = clock.now
        for _ in 0..<batch {
            if body(queries[next]) { allowed += 1 }
            next = next + 1 == queries.count ? 0 : next + 1
        }
        let elapsed = clock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        samples.append(nanoseconds / Double(batch))
    }
    return (samples.sorted(), allowed)
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func runBenchmark(arguments: [String]) throws {
    func option(_ name: String, _ fallback: Int) -> Int {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else { return fallback }
        return value
    }
    let roleCount = option("--roles", 1_000)
    let ruleCount = option("--rules", 10_000)
    let queryCount = option("--queries", 100_000)
    var random = SplitMix64(state: 2026)
    let generated = generate(roles: roleCount, rules: ruleCount, random: &random)
    let loadStart = ContinuousClock.now
    let policy = try Policy.compile([PolicySource(name: "generated.csv", contents: generated.csv)])
    let loadTime = ContinuousClock.now - loadStart
    let workload = queries(count: queryCount, roles: roleCount, random: &random)

    // Both implementations must agree before either is timed.
    var disagreements = 0
    for query in workload where policy.decide(subject: query.subject, grantedRoles: query.roles, action: query.action, resource: query.resource).allowed != linearScan(generated, query) {
        disagreements += 1
    }
    guard disagreements == 0 else {
        print("policy-bench: the index and the linear scan disagree on \(disagreements) queries")
        exit(1)
    }

    _ = measure(batches: 200, batch: 100, queries: workload) { policy.decide(subject: $0.subject, grantedRoles: $0.roles, action: $0.action, resource: $0.resource).allowed }
    let indexed = measure(batches: 5_000, batch: 100, queries: workload) {
        policy.decide(subject: $0.subject, grantedRoles: $0.roles, action: $0.action, resource: $0.resource).allowed
    }
    let explained = measure(batches: 1_000, batch: 100, queries: workload) {
        let decision = policy.decide(subject: $0.subject, grantedRoles: $0.roles, action: $0.action, resource: $0.resource)
        return decision.allowed && !decision.roles.isEmpty && !decision.reason.isEmpty
    }
    let baseline = measure(batches: 500, batch: 100, queries: workload) { linearScan(generated, $0) }
    let median = percentile(indexed.samples, 0.5)
    let p99 = percentile(indexed.samples, 0.99)
    let baselineMedian = percentile(baseline.samples, 0.5)
    print("""
        policy: \(roleCount) roles, \(ruleCount) rules, \(generated.parents.joined().count) inheritance edges; compiled in \(loadTime)
        queries: \(queryCount) (1-3 granted roles each), allowed \(String(format: "%.1f", 100 * Double(indexed.allowed) / Double(5_000 * 100)))%
        Policy.decide       median \(String(format: "%7.0f", median)) ns   p99 \(String(format: "%7.0f", p99)) ns   (per decision, batches of 100)
        decide + roles + reason (what /v1/authorize returns) median \(String(format: "%7.0f", percentile(explained.samples, 0.5))) ns
        linear-scan baseline median \(String(format: "%7.0f", baselineMedian)) ns
        ratio: decide is \(String(format: "%.1f", baselineMedian / median))x faster than the baseline; target median < 1000 ns: \(median < 1000 ? "met" : "NOT met")
        """)
}

/// `eval DIR`: answer JSON-line queries with the library.
func runEval(directory: String) throws {
    struct Request: Decodable {
        let subject: String
        let roles: [String]
        let action: String
        let resource: String
    }
    struct Answer: Encodable {
        let allowed: Bool
        let rule: String?
    }
    let policy = try Policy.load(directory: directory)
    let decoder = JSONDecoder()
    let encoder = JSONEncoder()
    var output = ""
    while let line = readLine(strippingNewline: true) {
        guard !line.isEmpty else { continue }
        let request = try decoder.decode(Request.self, from: Data(line.utf8))
        let decision = policy.decide(subject: request.subject, grantedRoles: request.roles, action: request.action, resource: request.resource)
        output += String(decoding: try encoder.encode(Answer(allowed: decision.allowed, rule: decision.decidingRule?.location)), as: UTF8.self) + "\n"
    }
    FileHandle.standardOutput.write(Data(output.utf8))
}

do {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "eval", arguments.count == 2 {
        try runEval(directory: arguments[1])
    } else {
        try runBenchmark(arguments: arguments)
    }
} catch {
    FileHandle.standardError.write(Data("policy-bench: \(error)\n".utf8))
    exit(1)
}
