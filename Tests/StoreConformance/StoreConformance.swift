import Foundation
public import PortcullisCore

/// Makes stores for the conformance suite: a fresh, empty, migrated store on every call.
///
/// A backend's own test is one factory and one parameterised test:
/// ```swift
/// @Test(arguments: StoreConformance.checks)
/// func postgresStorePasses(_ check: ConformanceCheck) async throws {
///     try await check.run(PostgresFactory())
/// }
/// ```
public protocol StoreFactory: Sendable {
    /// A new store sharing nothing with any store made before.
    func makeStore() async throws -> any PortcullisStore
    /// `count` independent stores over one new, empty, migrated database, standing in for
    /// `count` replicas of the server: separate connections (or pools), shared rows.
    func makeReplicas(_ count: Int) async throws -> [any PortcullisStore]
    /// True where replicas take turns at maintenance (PostgreSQL: the sweep and the decision-log
    /// trim run only in the process that wins the maintenance lock, and the others skip); false
    /// where every process may always run them (SQLite: one writer at a time anyway).
    var replicasTakeTurnsAtMaintenance: Bool { get }
    /// Runs `body` while `replica` holds the maintenance lock as it does in the middle of a sweep,
    /// and returns what `body` returned; where replicas do not take turns, just runs `body`.
    func whileHoldingMaintenanceLock<Value: Sendable>(
        _ replica: any PortcullisStore, _ body: @escaping @Sendable () async throws -> Value) async throws -> Value
}

/// One behaviour every store must have, runnable against any backend.
public struct ConformanceCheck: Sendable, CustomStringConvertible {
    /// Names the behaviour, e.g. `session.concurrentRotationsLetExactlyOneWin`.
    public let name: String
    /// Runs the check on stores from the factory; throws `ConformanceFailure` when the store misbehaves.
    public let run: @Sendable (any StoreFactory) async throws -> Void

    /// A check called `name`.
    public init(_ name: String, run: @escaping @Sendable (any StoreFactory) async throws -> Void) {
        self.name = name
        self.run = run
    }

    /// A check on one fresh store.
    init(_ name: String, store body: @escaping @Sendable (any PortcullisStore) async throws -> Void) {
        self.init(name) { factory in try await body(try await factory.makeStore()) }
    }

    public var description: String { name }
}

/// A store did not do what the protocol promises.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// What went wrong: the expectation, what was expected and what was seen.
    public let message: String
    /// Where in the suite.
    public let file: String
    /// Line in `file`.
    public let line: Int

    public var description: String { "\((file as NSString).lastPathComponent):\(line): \(message)" }
}

/// Every check, grouped by capability. Each backend runs all of them.
public enum StoreConformance {
    /// The whole suite.
    public static let checks: [ConformanceCheck] =
        userChecks + roleChecks + sessionChecks + accessTokenChecks + lockoutChecks + addressThrottleChecks + auditChecks + mfaChecks
        + passkeyChecks + decisionLogChecks + clientChecks + codeChecks + consentChecks + browserSessionChecks + erasureChecks + expiryChecks
        + maintenanceChecks + schemaChecks + raceChecks + passkeyRaceChecks
}

/// Fails unless `seen == expected`.
func expect<T: Equatable>(_ seen: T, _ expected: T, _ what: @autoclosure () -> String = "",
                          file: String = #file, line: Int = #line) throws {
    guard seen != expected else { return }
    let label = what()
    throw ConformanceFailure(message: "\(label.isEmpty ? "" : label + ": ")expected \(expected), saw \(seen)", file: file, line: line)
}

/// Fails unless `condition` holds.
func expect(_ condition: Bool, _ what: @autoclosure () -> String, file: String = #file, line: Int = #line) throws {
    guard !condition else { return }
    throw ConformanceFailure(message: "expected: \(what())", file: file, line: line)
}

/// Fails unless `body` throws an error equal to `error`.
func expectThrows<E: Error & Equatable>(_ expected: E, _ what: String, file: String = #file, line: Int = #line,
                                        _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let thrown as E where thrown == expected {
        return
    } catch {
        throw ConformanceFailure(message: "\(what): expected to throw \(expected), threw \(error)", file: file, line: line)
    }
    throw ConformanceFailure(message: "\(what): expected to throw \(expected), returned normally", file: file, line: line)
}

/// "rotated×1, reused×23": how many of each outcome, for failure messages.
func tally<T>(_ outcomes: [T]) -> String {
    var counts: [String: Int] = [:]
    for outcome in outcomes { counts[String(String(describing: outcome).prefix { $0 != "(" }), default: 0] += 1 }
    return counts.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
}

/// Runs `body` `count` times concurrently and returns every result.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: T.self) { group in
        for index in 0..<count { group.addTask { try await body(index) } }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}
