import Foundation
import Hummingbird
import Logging
import HummingbirdTesting
import NIOCore
import PortcullisCore
import PortcullisCrypto
import PortcullisPolicy
import PortcullisServer
import PortcullisSQLite
import Synchronization
import Testing

/// Cheap Argon2 for tests; production defaults are tested in the crypto target.
let testArgon2 = Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1)

/// A clock tests can move.
final class TestClock: Sendable {
    private let value = Mutex(Date())
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The policy every harness starts with (line numbers are asserted in tests).
let testPolicyYAML = """
roles:
  viewer:
    allow: ["documents/*:read"]
  editor:
    inherits: [viewer]
    allow: ["documents/*:write"]
    deny: ["documents/secret/*:*"]
  admin:
    allow: ["*"]
  authz-checker:
    allow: ["portcullis/authz:check"]
bindings:
  svc-billing: [viewer, authz-checker]
"""

/// Keys directories prepared once per signing algorithm (`KeyDirectory.prepare`, as `serve` does)
/// and copied into each harness's own: the suite opens over a hundred servers on two cores, and the
/// RS256 ID-token key alone costs a third of a second to generate, work that held the cooperative
/// threads for the suite's first half minute. Key creation itself is tested in PortcullisCoreTests.
enum KeyTemplates {
    private static let prepared = Mutex<[JWSAlgorithm: String]>([:])

    /// Copies the template for `algorithm` (made at its first use) to `path`, which must not exist.
    static func copy(_ algorithm: JWSAlgorithm, to path: String) throws {
        let template = try prepared.withLock { prepared in
            if let made = prepared[algorithm] { return made }
            let made = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-keys-\(algorithm.rawValue)-\(UUID().uuidString)").path
            try KeyDirectory(path: made).prepare(signingAlgorithm: algorithm)
            prepared[algorithm] = made
            return made
        }
        try FileManager.default.copyItem(atPath: template, toPath: path)
    }
}

/// One server on a fresh database, keys and policies directory, opened the way `serve` opens it.
struct Harness {
    let directory: String
    let configuration: PortcullisConfiguration
    /// The server's own store (SQLite, for the tests that read its tables).
    let store: SQLiteStore
    /// The server's keys directory, as the `keys` commands see it.
    let keys: KeyDirectory
    let services: PortcullisServices
    let admin: UserAdministration
    let clock = TestClock()

    var policies: PolicyProvider { services.policies }

    /// A server with `testPolicyYAML` as `test.yaml`, or the policies of `policyDirectory`.
    init(policyDirectory: String? = nil, configure: (inout PortcullisConfiguration) -> Void = { _ in }) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-server-\(UUID().uuidString)").path
        var configuration = PortcullisConfiguration()
        configuration.databasePath = directory + "/db.sqlite"
        configuration.keysDirectory = directory + "/Keys"
        configuration.issuer = "http://portcullis.test"
        configuration.argon2 = testArgon2
        configuration.allowWeakArgon2 = true
        if let policyDirectory {
            configuration.policiesDirectory = policyDirectory
        } else {
            configuration.policiesDirectory = directory + "/Policies"
            try FileManager.default.createDirectory(atPath: configuration.policiesDirectory, withIntermediateDirectories: true)
            try testPolicyYAML.write(toFile: configuration.policiesDirectory + "/test.yaml", atomically: true, encoding: .utf8)
        }
        configure(&configuration)
        if configuration.keysDirectory == directory + "/Keys" {
            try KeyTemplates.copy(configuration.signingAlgorithm, to: configuration.keysDirectory)
        }
        try await self.init(configuration: configuration, directory: directory)
    }

    /// A server over an existing configuration (another harness's database and keys, say).
    init(configuration: PortcullisConfiguration, directory: String? = nil) async throws {
        self.directory = directory ?? configuration.keysDirectory
        self.configuration = configuration
        let clock = self.clock
        services = try await PortcullisServices.open(configuration, logger: Logger(label: "test"), clock: { clock.now })
        guard let store = services.store as? SQLiteStore else { throw PortcullisError.internalFailure("the harness expects SQLite") }
        self.store = store
        keys = KeyDirectory(path: configuration.keysDirectory)
        admin = UserAdministration(store: store, hasher: services.passwordHasher, policy: services.policies.current)
    }

    @discardableResult
    func addUser(_ name: String = "alice", password: String = "correct horse", roles: [String] = []) async throws -> UserSummary {
        try await admin.addUser(username: name, email: "\(name)@example.com", password: password, roles: roles)
    }

    func test<Value: Sendable>(logger: Logger = Logger(label: "test"), _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await buildApplication(services, logger: logger).test(.router, body)
    }
}

extension TestClientProtocol {
    /// POSTs a JSON body (a dictionary, or raw text when given a String).
    func post(_ uri: String, json: [String: Any], bearer: String? = nil) async throws -> TestResponse {
        try await post(uri, raw: String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self), bearer: bearer)
    }

    func post(_ uri: String, raw: String, bearer: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: raw))
    }

    func get(_ uri: String, bearer: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await execute(uri: uri, method: .get, headers: headers, body: nil)
    }

    /// Logs in and returns the token response, failing the test unless it is 200.
    func login(_ username: String = "alice", _ password: String = "correct horse") async throws -> [String: Any] {
        let response = try await post("/v1/login", json: ["username": username, "password": password])
        #expect(response.status == .ok, "login failed: \(String(buffer: response.body))")
        return try response.json()
    }

    /// The `active` member of `/v1/token/verify` for `token`.
    func isActive(_ token: String) async throws -> Bool {
        let response = try await post("/v1/token/verify", json: ["token": token])
        #expect(response.status == .ok)
        return try response.json()["active"] as? Bool ?? false
    }
}

extension TestResponse {
    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))
        guard let dictionary = object as? [String: Any] else { throw PortcullisError.invalidRequest("not a JSON object") }
        return dictionary
    }

    /// The `error` code of a JSON error body.
    var errorCode: String? { (try? json())?["error"] as? String }
}

/// Decodes a JWT part without verifying it.
func decodePart(_ token: String, index: Int) throws -> [String: Any] {
    let part = token.split(separator: ".", omittingEmptySubsequences: false)[index]
    let bytes = try #require(Base64URL.decode(part))
    return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

/// A compact JWS with arbitrary header and signature bytes.
func forgeToken(header: [String: Any], payload: [String: Any], signature: [UInt8]) throws -> String {
    let h = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: header)))
    let p = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: payload)))
    return "\(h).\(p).\(Base64URL.encode(signature))"
}

/// The value of the sample `series` (a name with its labels, as exported) in Prometheus text, or nil.
func prometheusSample(_ text: String, _ series: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
}
