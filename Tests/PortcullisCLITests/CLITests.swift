import Foundation
import Testing

/// Runs the built `portcullis` binary against a temporary database and keys directory.
struct CLI {
    let directory: String

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-cli-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: directory + "/Policies", withIntermediateDirectories: true)
        try? Self.policy.write(toFile: directory + "/Policies/main.yaml", atomically: true, encoding: .utf8)
    }

    static let policy = """
        roles:
          viewer:
            allow: ["documents/*:read"]
          admin:
            inherits: [viewer]
            allow: ["*"]
            deny: ["billing/*:delete"]
        """

    /// The binary beside the test bundle (or `PORTCULLIS_BIN`).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PORTCULLIS_BIN"] { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("portcullis").path
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> Result {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PORTCULLIS_") }
        environment["PORTCULLIS_ARGON2_MEMORY_KIB"] = "1024"
        environment["PORTCULLIS_ARGON2_ITERATIONS"] = "1"
        environment.merge(extra) { $1 }
        let exit = try ChildProcess.run(Self.binary, arguments + ["--db", directory + "/db.sqlite", "--keys", directory + "/Keys", "--policies", directory + "/Policies"],
                                        environment: environment, stdin: stdin)
        return Result(status: exit.status, stdout: exit.stdout, stderr: exit.stderr)
    }

    func json(_ arguments: [String], stdin: String? = nil) throws -> Any {
        let result = try run(arguments + ["--json"], stdin: stdin)
        #expect(result.status == 0, "\(arguments) failed: \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }
}

@Suite(.serialized) struct CLITests {
    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary), "build the portcullis product first: \(CLI.binary)")
    }

    @Test func userLifecycleWithJSONOutput() throws {
        let cli = CLI()
        let added = try #require(try cli.json(["user", "add", "alice", "--email", "a@example.com", "--role", "viewer", "--password-stdin"], stdin: "correct horse\n") as? [String: Any])
        #expect(added["username"] as? String == "alice")
        #expect(added["roles"] as? [String] == ["viewer"])

        let list = try #require(try cli.json(["user", "list"]) as? [[String: Any]])
        #expect(list.count == 1)
        for field in ["username", "email", "disabled", "roles", "mfa", "created_at"] {
            #expect(list[0][field] != nil, "user list --json lacks \(field)")
        }

        #expect(try cli.run(["user", "disable", "alice"]).status == 0)
        #expect((try cli.json(["user", "show", "alice"]) as? [String: Any])?["disabled"] as? Bool == true)
        #expect(try cli.run(["user", "enable", "alice"]).status == 0)
        #expect(try cli.run(["role", "grant", "alice", "admin"]).status == 0)
        #expect((try cli.json(["user", "show", "alice"]) as? [String: Any])?["roles"] as? [String] == ["admin", "viewer"])
        #expect(try cli.run(["role", "revoke", "alice", "viewer"]).status == 0)
        #expect(try cli.run(["user", "passwd", "alice", "--password-stdin"], stdin: "another secret\n").status == 0)
        #expect(try cli.run(["user", "unlock", "alice"]).status == 0)
        #expect(try cli.run(["user", "mfa-reset", "alice"]).stdout.contains("no mfa enrolled"))
        #expect(try cli.run(["user", "delete", "alice"]).status == 0)
        #expect((try cli.json(["user", "list"]) as? [Any])?.isEmpty == true)

        let audit = try #require(try cli.json(["audit", "--limit", "20"]) as? [[String: Any]])
        let actions = audit.compactMap { $0["action"] as? String }
        for action in ["user.add", "user.disable", "user.enable", "role.grant", "role.revoke", "user.passwd", "user.unlock", "mfa.reset", "user.delete"] {
            #expect(actions.contains(action), "audit lacks \(action)")
        }
        #expect(!audit.description.contains("correct horse"))
    }

    @Test func errorsAreOneLineOnStderrWithNonZeroExit() throws {
        let cli = CLI()
        let missing = try cli.run(["user", "show", "nobody"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no user nobody"))
        #expect(missing.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)

        #expect(try cli.run(["user", "add", "bob", "--password-stdin"], stdin: "short\n").status != 0)
        #expect(try cli.run(["user", "add", "bad name", "--password-stdin"], stdin: "long enough pw\n").status != 0)
        #expect(try cli.run(["user", "add", "bob", "--password-stdin"], stdin: "long enough pw\n").status == 0)
        let duplicate = try cli.run(["user", "add", "BOB", "--password-stdin"], stdin: "long enough pw\n")
        #expect(duplicate.status != 0)
        #expect(duplicate.stderr.contains("already exists"))
        let noTerminal = try cli.run(["user", "add", "carol"], stdin: "")
        #expect(noTerminal.status != 0)
        #expect(noTerminal.stderr.contains("--password-stdin"))
        let badEnv = try cli.run(["user", "list"], environment: ["PORTCULLIS_ACCESS_TOKEN_TTL": "forever"])
        #expect(badEnv.status != 0)
        #expect(badEnv.stderr.contains("PORTCULLIS_ACCESS_TOKEN_TTL"))
    }

    @Test func roleGrantRefusesARoleThePolicyDoesNotDefine() throws {
        let cli = CLI()
        #expect(try cli.run(["user", "add", "erin", "--password-stdin"], stdin: "long enough pw\n").status == 0)
        let refused = try cli.run(["role", "grant", "erin", "superuser"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("superuser"))
        #expect(try cli.run(["user", "add", "frank", "--role", "ghost", "--password-stdin"], stdin: "long enough pw\n").status != 0)
        #expect(try cli.run(["role", "grant", "erin", "admin"]).status == 0)

        let roles = try #require(try cli.json(["role", "list"]) as? [[String: Any]])
        let admin = try #require(roles.first { $0["role"] as? String == "admin" })
        #expect((admin["allow"] as? [String])?.contains { $0.hasPrefix("documents/*:read (main.yaml:3, from viewer)") } == true, "\(admin)")
        #expect((admin["deny"] as? [String])?.first?.hasPrefix("billing/*:delete (main.yaml:7") == true, "\(admin)")

        let explained = try #require(try cli.json(["policy", "explain", "erin", "delete", "billing/42"]) as? [String: Any])
        #expect(explained["allowed"] as? Bool == false)
        #expect(explained["roles"] as? [String] == ["admin", "viewer"])
        #expect((explained["reason"] as? String)?.contains("main.yaml:7") == true)
    }

    @Test func policyExplainRefusesANonCanonicalResourceNamingTheRule() throws {
        let cli = CLI()
        #expect(try cli.run(["user", "add", "erin", "--role", "viewer", "--password-stdin"], stdin: "long enough pw\n").status == 0)
        #expect(try cli.run(["policy", "explain", "erin", "read", "documents/secret/x"]).status == 0)
        for resource in ["documents/./secret/x", "documents//secret/x", "documents/a/../secret/x", "..", "", "/documents/x"] {
            for json in [[], ["--json"]] {
                let refused = try cli.run(["policy", "explain", "erin", "read", resource] + json)
                #expect(refused.status != 0, "\(resource) must be refused")
                #expect(refused.stdout.isEmpty, "no decision is printed for \(resource)")
                #expect(refused.stderr.contains(#"resource "\#(resource)" is not canonical"#), "\(refused.stderr)")
                #expect(refused.stderr.contains(#"resources may not have empty, "." or ".." segments"#), "\(refused.stderr)")
            }
        }
    }

    @Test func policyCheckPrintsEachErrorWithItsLine() throws {
        let cli = CLI()
        #expect(try cli.run(["policy", "check"]).status == 0)
        let broken = cli.directory + "/Broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try "roles:\n  a:\n    allow: [\"x*y:read\"]\n  b:\n    inherits: [ghost]\n".write(toFile: broken + "/bad.yaml", atomically: true, encoding: .utf8)
        let result = try cli.run(["policy", "check", broken])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("bad.yaml:3:") }, "\(result.stderr)")
        #expect(lines.contains { $0.hasPrefix("bad.yaml:5:") }, "\(result.stderr)")
    }

    @Test func keysRotateListAndRetire() throws {
        let cli = CLI()
        let first = try #require(try cli.json(["keys", "rotate", "--alg", "ES256"]) as? [String: String])
        let second = try #require(try cli.json(["keys", "rotate", "--alg", "EdDSA"]) as? [String: String])
        let keys = try #require(try cli.json(["keys", "list"]) as? [[String: Any]])
        let status = Dictionary(uniqueKeysWithValues: keys.map { ($0["kid"] as! String, $0["status"] as! String) })
        #expect(status[second["kid"]!] == "signing")
        #expect(status[first["kid"]!] == "live")
        #expect(try cli.run(["keys", "retire", second["kid"]!]).status != 0, "the signing key cannot be retired")
        #expect(try cli.run(["keys", "retire", first["kid"]!]).status == 0)
        let after = try #require(try cli.json(["keys", "list"]) as? [[String: Any]])
        #expect(after.first { $0["kid"] as? String == first["kid"] }?["status"] as? String == "retired")
        #expect(try cli.run(["keys", "rotate", "--alg", "HS256"]).status != 0)
    }

    @Test func clientAddShowListDeleteWithJSONOutput() throws {
        let cli = CLI()
        let added = try #require(try cli.json(["client", "add", "Web App", "--id", "web", "--redirect-uri", "https://app.example/cb"]) as? [String: String])
        #expect(added["client_id"] == "web")
        let secret = try #require(added["client_secret"])
        #expect(decodedByteCount(secret) == 32, "a 256-bit secret")
        let native = try #require(try cli.json(["client", "add", "Phone", "--public", "--redirect-uri", "com.example.app:/cb"]) as? [String: String])
        #expect(native["client_secret"] == nil && native["client_id"]?.isEmpty == false)

        let shown = try #require(try cli.json(["client", "show", "web"]) as? [String: Any])
        #expect(shown["type"] as? String == "confidential")
        #expect(shown["redirect_uris"] as? [String] == ["https://app.example/cb"])
        #expect(shown["id_token_signed_response_alg"] as? String == "RS256")
        #expect(shown["grant_types"] as? [String] == ["authorization_code", "refresh_token", "client_credentials"])
        #expect(!String(describing: shown).contains(secret), "the secret is shown once, at add")
        #expect((try cli.json(["client", "list"]) as? [[String: Any]])?.count == 2)

        for bad in [["client", "add", "X", "--redirect-uri", "http://app.example/cb"],          // plain http off loopback
                    ["client", "add", "X", "--redirect-uri", "https://app.example/cb#frag"],
                    ["client", "add", "X", "--public", "--grant-type", "client_credentials"],
                    ["client", "add", "X", "--id", "web", "--redirect-uri", "https://app.example/cb"],   // taken
                    ["client", "add", "X", "--redirect-uri", "https://app.example/cb", "--id-token-alg", "HS256"]] {
            let result = try cli.run(bad)
            #expect(result.status != 0, "\(bad) must fail")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try cli.run(["client", "delete", "web"]).status == 0)
        #expect(try cli.run(["client", "show", "web"]).status != 0)
        let actions = (try cli.json(["audit"]) as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
        #expect(actions.contains("client.add") && actions.contains("client.delete"))
    }

    /// Generated ids are base64url: about one in 32 starts with "-", which the argument parser reads as an option.
    @Test func anIDThatStartsWithADashIsTakenAsTheID() throws {
        let cli = CLI()
        #expect(try cli.run(["client", "add", "App", "--id=-Ory8uotMZc-gui7v2bew", "--redirect-uri", "https://app.example/cb"]).status == 0)
        let shown = try #require(try cli.json(["client", "show", "-Ory8uotMZc-gui7v2bew"]) as? [String: Any])
        #expect(shown["client_id"] as? String == "-Ory8uotMZc-gui7v2bew")
        let two = try cli.run(["client", "show", "-Ory8uotMZc-gui7v2bew", "other"])
        #expect(two.status != 0 && two.stderr == "Error: expected one <id>, got 2: -Ory8uotMZc-gui7v2bew other\n")
        #expect(try cli.run(["client", "delete", "-Ory8uotMZc-gui7v2bew"]).status == 0)
        #expect(try cli.run(["client", "show", "-Ory8uotMZc-gui7v2bew"]).stderr == "Error: no client -Ory8uotMZc-gui7v2bew\n")
        let passkey = try cli.run(["user", "passkey-remove", "nobody", "-Ory8uotMZc-gui7v2bew"])
        #expect(passkey.stderr == "Error: no user nobody\n", "the id reached the command")
        let retired = try cli.run(["keys", "retire", "-Ory8uotMZc-gui7v2bew"])
        #expect(retired.status != 0 && !retired.stderr.contains("Missing expected argument"))
    }

    @Test func auditVerifyFindsAnEditedRowAndEraseKeepsTheChain() throws {
        let cli = CLI()
        _ = try cli.json(["user", "add", "alice", "--email", "alice@example.com", "--role", "viewer", "--password-stdin"], stdin: "correct horse\n")
        _ = try cli.json(["user", "add", "bob", "--password-stdin"], stdin: "correct horse\n")
        #expect(try cli.run(["role", "grant", "alice", "admin"]).status == 0)
        let intact = try #require(try cli.json(["audit", "verify"]) as? [String: String])
        #expect(intact["result"] == "intact" && intact["events"] == "3" && intact["head"]?.count == 64)

        let erased = try #require(try cli.json(["user", "delete", "alice", "--erase"]) as? [String: String])
        #expect(erased["result"] == "erased" && erased["audit_events_pseudonymised"] == "2")
        #expect((try cli.json(["audit", "verify"]) as? [String: String])?["result"] == "intact")
        let trail = try cli.run(["audit", "--limit", "10"]).stdout
        #expect(!trail.contains("alice") && trail.contains("user.erase") && trail.contains("bob"))

        // Edit a row behind Portcullis' back: verify names it and exits 1.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [cli.directory + "/db.sqlite", "UPDATE audit_events SET subject = 'mallory' WHERE id = 2"]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        let broken = try cli.run(["audit", "verify", "--json"])
        #expect(broken.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(broken.stdout.utf8)) as? [String: String])
        #expect(report["result"] == "broken" && report["first_broken_row"] == "2")
    }

    @Test func hashCalibratePrintsParametersAtLeastOWASPsFloorAndTheLoginRateTheyAllow() throws {
        let cli = CLI()
        let text = try cli.run(["hash", "calibrate", "--target-ms", "60", "--max-memory-mib", "64"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("PORTCULLIS_ARGON2_MEMORY_KIB="))
        #expect(text.stdout.contains("logins/s per core"))
        let result = try #require(try cli.json(["hash", "calibrate", "--target-ms", "60", "--max-memory-mib", "64"]) as? [String: Any])
        let memory = try #require(result["memory_kib"] as? Int)
        let iterations = try #require(result["iterations"] as? Int)
        let milliseconds = try #require(result["milliseconds"] as? Double)
        let rate = try #require(result["logins_per_second_per_core"] as? Double)
        #expect((19456...65536).contains(memory))
        #expect(iterations >= 2 && result["parallelism"] as? Int == 1)
        #expect(abs(rate - 1000 / milliseconds) < 0.2)
        #expect(try cli.run(["hash", "calibrate", "--target-ms", "5"]).stderr.contains("--target-ms must be between 10 and 10000"))
    }

    @Test func serveRefusesToStartWithArgon2BelowTheFloorUnlessAllowed() throws {
        let cli = CLI()
        // An invalid policy stops a server that got past the Argon2 check before it listens, so no run can hang.
        try "roles:\n  a:\n    inherits: [ghost]\n".write(toFile: cli.directory + "/Policies/broken.yaml", atomically: true, encoding: .utf8)
        // The harness's m=1024, t=1.
        let refused = try cli.run(["serve", "--port", "0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("refusing to start: Argon2id settings m=1024 KiB"), "\(refused.stderr)")
        #expect(refused.stderr.contains("PORTCULLIS_ARGON2_ALLOW_WEAK=1"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.directory + "/Keys"), "nothing is created before the check")
        // With the override the floor is not what stops it: the policy is.
        let allowed = try cli.run(["serve", "--port", "0"], environment: ["PORTCULLIS_ARGON2_ALLOW_WEAK": "1"])
        #expect(allowed.status != 0)
        #expect(!allowed.stderr.contains("Argon2id settings"), "\(allowed.stderr)")
        #expect(allowed.stderr.contains("invalid policy"), "\(allowed.stderr)")
    }

    @Test func configPrintsEffectiveValuesWithTheirSourceAndFlagsBeatEnvironmentBeatFile() throws {
        let cli = CLI()
        let file = cli.directory + "/portcullis.conf"
        try "# settings\nport = 9191\nargon2-memory-kib = 4096\nPORTCULLIS_TOTP_ISSUER = \"Acme SSO\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try cli.run(["config", "--config", file, "--json"], environment: ["PORTCULLIS_PORT": "9292"])
        #expect(result.status == 0, "\(result.stderr)")
        let settings = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]])
        let byKey = Dictionary(uniqueKeysWithValues: settings.map { ($0["key"]!, ($0["value"]!, $0["source"]!)) })
        #expect(byKey["PORTCULLIS_PORT"]! == ("9292", "environment"))
        #expect(byKey["PORTCULLIS_ARGON2_MEMORY_KIB"]! == ("1024", "environment"), "the test harness sets it in the environment")
        #expect(byKey["PORTCULLIS_TOTP_ISSUER"]! == ("Acme SSO", "file"))
        #expect(byKey["PORTCULLIS_DB"]?.1 == "flag")
        #expect(byKey["PORTCULLIS_HOST"]! == ("127.0.0.1", "defaults"))

        try "port = 9191\nbogus = 1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let bad = try cli.run(["config", "--config", file])
        #expect(bad.status != 0 && bad.stderr.contains("portcullis.conf:2: unknown setting PORTCULLIS_BOGUS"))
        try "port = high\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["config", "--config", file]).stderr.contains("portcullis.conf:1: PORTCULLIS_PORT=high"))
    }
}

/// Length in bytes of a base64url text.
func decodedByteCount(_ text: String) -> Int {
    text.count * 6 / 8
}
