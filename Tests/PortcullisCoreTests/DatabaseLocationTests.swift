import PortcullisCore
import Testing

/// `PORTCULLIS_DB` parsing (`DatabaseLocation`), its redaction, and the two database settings.
@Suite struct DatabaseLocationTests {
    /// The message of the `invalidRequest` that parsing `text` throws (nil when it parses).
    func parseError(_ text: String) -> String? {
        do {
            _ = try DatabaseLocation(parsing: text)
            return nil
        } catch {
            guard case .invalidRequest(let message) = error else { return "unexpected \(error)" }
            return message
        }
    }

    func postgres(_ text: String) throws -> PostgresLocation {
        let location = try DatabaseLocation(parsing: text)
        guard case .postgres(let postgres) = location else {
            Issue.record("\(text) parsed as \(location)")
            throw PortcullisError.invalidRequest("not postgres")
        }
        return postgres
    }

    // MARK: SQLite

    @Test func aBarePathIsSQLiteExactlyAsGiven() throws {
        for path in ["./data/portcullis.db", "/var/lib/portcullis/portcullis.db", "db.sqlite", "dir with spaces/x.db", "a:b.db", "relative/sqlite.db"] {
            #expect(try DatabaseLocation(parsing: path) == .sqlite(path: path))
            #expect(try DatabaseLocation(parsing: path).description == path)
        }
    }

    @Test func sqliteColonPathIsSQLite() throws {
        #expect(try DatabaseLocation(parsing: "sqlite:/var/lib/p.db") == .sqlite(path: "/var/lib/p.db"))
        #expect(try DatabaseLocation(parsing: "sqlite:./data/p.db") == .sqlite(path: "./data/p.db"))
        #expect(try DatabaseLocation(parsing: "sqlite:p.db") == .sqlite(path: "p.db"))
    }

    @Test func emptyAndAmbiguousSQLiteFormsAreErrors() {
        #expect(parseError("sqlite:") == "PORTCULLIS_DB: sqlite: needs a file path: sqlite:PATH")
        #expect(parseError("") == "PORTCULLIS_DB: empty; expected a SQLite file path, sqlite:PATH or a postgres:// URL")
        #expect(parseError("sqlite:///var/x.db")?.contains("not sqlite://") == true)
        #expect(parseError("mysql://u:p@h/db") == "PORTCULLIS_DB: unknown scheme \"mysql\"; expected a SQLite file path, sqlite:PATH or a postgres:// URL")
    }

    // MARK: PostgreSQL, accepted forms

    @Test func aFullPostgresURL() throws {
        let location = try postgres("postgres://portcullis:s3cret@db.example.com:6543/auth?sslmode=require")
        #expect(location == PostgresLocation(host: "db.example.com", port: 6543, user: "portcullis", password: "s3cret", database: "auth", sslMode: .require))
    }

    @Test func postgresqlSchemeAndDefaults() throws {
        let location = try postgres("postgresql://app@localhost/appdb")
        #expect(location.host == "localhost")
        #expect(location.port == 5432)
        #expect(location.user == "app")
        #expect(location.password == nil)
        #expect(location.database == "appdb")
        #expect(location.sslMode == .prefer)
        #expect(try postgres("POSTGRES://app@localhost/appdb") == location, "the scheme is case-insensitive")
    }

    @Test func everySSLMode() throws {
        for (text, mode) in [("disable", PostgresSSLMode.disable), ("prefer", .prefer), ("require", .require)] {
            #expect(try postgres("postgres://u@h/d?sslmode=\(text)").sslMode == mode)
            #expect(mode.rawValue == text)
        }
        #expect(PostgresSSLMode.allCases == [.disable, .prefer, .require])
    }

    @Test func userPasswordAndDatabaseArePercentDecoded() throws {
        let location = try postgres("postgres://us%40er%3Aname:p%40ss%3Aw%2Frd%3F%23%25@h:5432/my%20db%C3%A4")
        #expect(location.user == "us@er:name")
        #expect(location.password == "p@ss:w/rd?#%")
        #expect(location.database == "my dbä")
        #expect(try postgres("postgres://u:a+b@h/d").password == "a+b", "+ is not a space outside forms")
    }

    @Test func rawSpecialCharactersInThePasswordStillParse() throws {
        // The user information runs to the last "@": a password written without escaping works.
        let location = try postgres("postgres://u:p@ss/w?rd#x@host:5433/db")
        #expect(location.password == "p@ss/w?rd#x")
        #expect(location.host == "host" && location.port == 5433 && location.database == "db")
    }

    @Test func ipv6HostsInBrackets() throws {
        let loopback = try postgres("postgres://u:pw@[::1]:5433/d")
        #expect(loopback.host == "::1" && loopback.port == 5433)
        let noPort = try postgres("postgres://u@[2001:db8::42]/d")
        #expect(noPort.host == "2001:db8::42" && noPort.port == 5432)
        #expect(loopback.redacted == "postgres://u:***@[::1]:5433/d?sslmode=prefer")
    }

    @Test func ipv4AndPortBounds() throws {
        #expect(try postgres("postgres://u@127.0.0.1:1/d").port == 1)
        #expect(try postgres("postgres://u@127.0.0.1:65535/d").port == 65535)
        #expect(try postgres("postgres://u@127.0.0.1:05432/d").port == 5432)
    }

    // MARK: PostgreSQL, errors naming their part

    @Test func portErrors() {
        #expect(parseError("postgres://u:pw@h:99999/d") == "PORTCULLIS_DB: the port \"99999\" is not in 1...65535")
        #expect(parseError("postgres://u:pw@h:0/d") == "PORTCULLIS_DB: the port \"0\" is not in 1...65535")
        #expect(parseError("postgres://u:pw@h:http/d") == "PORTCULLIS_DB: the port \"http\" is not a number")
        #expect(parseError("postgres://u:pw@h:+5/d") == "PORTCULLIS_DB: the port \"+5\" is not a number")
        #expect(parseError("postgres://u:pw@h:/d") == "PORTCULLIS_DB: the port after \"h:\" is empty (leave out the ':' for 5432)")
        #expect(parseError("postgres://u:pw@h:99999999999999999999999/d") == "PORTCULLIS_DB: the port \"99999999999999999999999\" is not in 1...65535")
    }

    @Test func sslModeErrors() {
        #expect(parseError("postgres://u:pw@h/d?sslmode=verify-full") == "PORTCULLIS_DB: sslmode must be disable, prefer or require (got \"verify-full\")")
        #expect(parseError("postgres://u:pw@h/d?sslmode") == "PORTCULLIS_DB: sslmode must be disable, prefer or require (got \"\")")
        #expect(parseError("postgres://u:pw@h/d?sslmode=disable&sslmode=require") == "PORTCULLIS_DB: sslmode is given twice")
    }

    @Test func unknownParameterIsAnError() {
        #expect(parseError("postgres://u:pw@h/d?connect_timeout=5") == "PORTCULLIS_DB: unknown URL parameter \"connect_timeout\" (only sslmode is accepted)")
        #expect(parseError("postgres://u:pw@h/d?sslmode=disable&application_name=x") == "PORTCULLIS_DB: unknown URL parameter \"application_name\" (only sslmode is accepted)")
    }

    @Test func missingPartsAreNamed() {
        #expect(parseError("postgres://u:pw@h:5432") == "PORTCULLIS_DB: a postgres URL needs a database name: postgres://user@host:5432/NAME")
        #expect(parseError("postgres://u:pw@h:5432/") == "PORTCULLIS_DB: a postgres URL needs a database name: postgres://user@host:5432/NAME")
        #expect(parseError("postgres://u:pw@h/?sslmode=disable") == "PORTCULLIS_DB: a postgres URL needs a database name: postgres://user@host:5432/NAME")
        #expect(parseError("postgres://h:5432/d") == "PORTCULLIS_DB: a postgres URL needs a user name: postgres://USER@host:5432/db")
        #expect(parseError("postgres://:pw@h/d") == "PORTCULLIS_DB: a postgres URL needs a user name: postgres://USER@host:5432/db")
        #expect(parseError("postgres://u:pw@/d") == "PORTCULLIS_DB: a postgres URL needs a host: postgres://user@HOST:5432/db")
        #expect(parseError("postgres://u:pw@:5432/d") == "PORTCULLIS_DB: a postgres URL needs a host: postgres://user@HOST:5432/db")
    }

    @Test func malformedHostsAndPathsAreNamed() {
        #expect(parseError("postgres://u@::1:5432/d")?.contains("an IPv6 address goes in brackets") == true)
        #expect(parseError("postgres://u@[::1/d") == "PORTCULLIS_DB: the IPv6 host \"[::1\" has no closing ]")
        #expect(parseError("postgres://u@[db.example]/d") == "PORTCULLIS_DB: the host \"[db.example]\" is not an IPv6 address")
        #expect(parseError("postgres://u@[::1]x/d") == "PORTCULLIS_DB: expected :PORT or /DATABASE after the host \"[::1]\" (got \"x\")")
        #expect(parseError("postgres://u@h st/d")?.hasPrefix("PORTCULLIS_DB: the host \"h st\" is not a host name") == true)
        #expect(parseError("postgres://u@h/d/e") == "PORTCULLIS_DB: the database name \"d/e\" contains '/'; the URL's path is one name: postgres://user@host:5432/NAME")
        #expect(parseError("postgres://u@h/d#frag") == "PORTCULLIS_DB: a postgres URL takes no #fragment (got \"#frag\")")
        #expect(parseError("postgres://u%zz@h/d")?.hasPrefix("PORTCULLIS_DB: the user name \"u%zz\" has a bad percent-escape") == true)
        #expect(parseError("postgres://u@h/d%4")?.hasPrefix("PORTCULLIS_DB: the database name \"d%4\" has a bad percent-escape") == true)
        #expect(parseError("postgres://u@h/%FF")?.hasPrefix("PORTCULLIS_DB: the database name \"%FF\" has a bad percent-escape") == true, "not UTF-8")
    }

    // MARK: Redaction

    @Test func theRedactedFormHidesThePasswordAndReencodes() throws {
        let location = try postgres("postgres://app%40corp:hunter2@db:5432/auth?sslmode=disable")
        #expect(location.redacted == "postgres://app%40corp:***@db:5432/auth?sslmode=disable")
        #expect(location.description == location.redacted)
        #expect(DatabaseLocation.postgres(location).description == location.redacted)
        #expect(try postgres("postgres://app@db/auth").redacted == "postgres://app@db:5432/auth?sslmode=prefer", "no password, no ***")
        #expect(try postgres(location.redacted.replacing("***", with: "x")).user == "app@corp", "the redacted form parses back")
    }

    @Test func thePasswordAppearsInNoErrorAndNoDescription() throws {
        let secret = "Sup3rS3cretPw"
        let broken = [
            "postgres://u:\(secret)@h:99999/d", "postgres://u:\(secret)@h:abc/d", "postgres://u:\(secret)@h/d?sslmode=verify-full",
            "postgres://u:\(secret)@h/d?password=\(secret.dropFirst(3))", "postgres://u:\(secret)@h", "postgres://u:\(secret)@/d",
            "postgres://u:\(secret)@[::1/d", "postgres://u:\(secret)@h/d#x", "postgres://u:\(secret)%zz@h/d", "postgres://:\(secret)@h/d",
            "postgres://u:\(secret)@h/d/e", "postgres://u:\(secret)@h st/d", "postgres://u:\(secret)@::1:5432/d",
        ]
        for text in broken {
            let message = try #require(parseError(text), "\(text) should not parse")
            #expect(!message.contains(secret.prefix(6)), "\(message)")
            #expect(!message.contains("\n"), "one line: \(message)")
        }
        for text in ["postgres://u:\(secret)@h/d", "postgres://u:\(secret)@[::1]:1/d?sslmode=require"] {
            let location = try DatabaseLocation(parsing: text)
            #expect(!location.description.contains(secret))
            #expect(!String(describing: location).contains(secret))
            #expect(!String(reflecting: location).contains(secret))
            var dumped = ""
            dump(location, to: &dumped)
            #expect(!dumped.contains(secret), "\(dumped)")
        }
    }

    @Test func configurationShowsAndRefusesPostgresWithoutItsPassword() throws {
        var configuration = PortcullisConfiguration()
        try configuration.apply(key: "PORTCULLIS_DB", value: "postgres://app:topsecret@db:5432/auth")
        let shown = try #require(configuration.settings.first { $0.key == "PORTCULLIS_DB" })
        #expect(shown.value == "postgres://app:***@db:5432/auth?sslmode=prefer")
        #expect(shown.source == .flag)
        #expect(!configuration.databasePath.contains("topsecret"))
        #expect(throws: PortcullisError.invalidRequest("PORTCULLIS_DB is a PostgreSQL URL (postgres://app:***@db:5432/auth?sslmode=prefer), but this command opens only SQLite databases so far")) {
            try configuration.sqlitePath()
        }
        // A bad URL through the environment and the file: the error names the setting, not the password.
        let error = #expect(throws: PortcullisError.self) {
            try configuration.apply(environment: ["PORTCULLIS_DB": "postgres://app:topsecret@db:5432/auth?sslmode=verify-full"])
        }
        #expect(error?.description == "PORTCULLIS_DB: sslmode must be disable, prefer or require (got \"verify-full\")")
    }

    @Test func theSQLitePathStaysCompatible() throws {
        var configuration = PortcullisConfiguration()
        #expect(configuration.database == .sqlite(path: "./data/portcullis.db"))
        #expect(try configuration.sqlitePath() == "./data/portcullis.db")
        configuration.databasePath = "/tmp/x.db"
        #expect(configuration.database == .sqlite(path: "/tmp/x.db"))
        try configuration.apply(key: "PORTCULLIS_DB", value: "sqlite:/tmp/y.db")
        #expect(configuration.databasePath == "/tmp/y.db")
        #expect(configuration.settings.first { $0.key == "PORTCULLIS_DB" }?.value == "/tmp/y.db")
    }

    // MARK: Pool size and auto-migrate

    @Test func poolSizeDefaultsToTenWithinOneToAThousand() throws {
        var configuration = PortcullisConfiguration()
        #expect(configuration.databasePoolSize == 10)
        try configuration.apply(key: "PORTCULLIS_DB_POOL_SIZE", value: "1000")
        #expect(configuration.databasePoolSize == 1000)
        try configuration.apply(key: "PORTCULLIS_DB_POOL_SIZE", value: "1")
        #expect(configuration.databasePoolSize == 1)
        #expect(throws: PortcullisError.invalidRequest("PORTCULLIS_DB_POOL_SIZE=0: expected an integer in 1...1000")) {
            try configuration.apply(key: "PORTCULLIS_DB_POOL_SIZE", value: "0")
        }
        #expect(throws: PortcullisError.self) { try configuration.apply(key: "PORTCULLIS_DB_POOL_SIZE", value: "1001") }
        #expect(configuration.settings.first { $0.key == "PORTCULLIS_DB_POOL_SIZE" }?.value == "1")
    }

    @Test func autoMigrateDefaultsByBackendUnlessSet() throws {
        var configuration = PortcullisConfiguration()
        #expect(configuration.databaseAutoMigrate == nil)
        #expect(configuration.autoMigrate == true, "SQLite migrates by itself")
        #expect(configuration.settings.first { $0.key == "PORTCULLIS_DB_AUTO_MIGRATE" }.map { "\($0.value) \($0.source)" } == "1 defaults")
        try configuration.apply(key: "PORTCULLIS_DB", value: "postgres://u@h/d")
        #expect(configuration.autoMigrate == false, "PostgreSQL waits for portcullis migrate")
        #expect(configuration.settings.first { $0.key == "PORTCULLIS_DB_AUTO_MIGRATE" }.map { "\($0.value) \($0.source)" } == "0 defaults")
        try configuration.apply(key: "PORTCULLIS_DB_AUTO_MIGRATE", value: "1")
        #expect(configuration.autoMigrate == true)
        try configuration.apply(key: "PORTCULLIS_DB", value: "./x.db")
        try configuration.apply(key: "PORTCULLIS_DB_AUTO_MIGRATE", value: "0")
        #expect(configuration.autoMigrate == false, "an explicit 0 holds for SQLite too")
        #expect(throws: PortcullisError.self) { try configuration.apply(key: "PORTCULLIS_DB_AUTO_MIGRATE", value: "yes") }
    }
}
