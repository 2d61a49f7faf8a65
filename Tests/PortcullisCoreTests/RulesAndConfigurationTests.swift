import Foundation
import PortcullisCore
import Testing

@Suite struct LockoutTests {
    @Test func accountLockoutStartsAtTheThresholdAndDoublesToAnHour() {
        let policy = LockoutPolicy(threshold: 10)
        #expect(policy.lockout(afterFailures: 9) == nil)
        #expect(policy.lockout(afterFailures: 10) == 60)
        #expect(policy.lockout(afterFailures: 11) == 120)
        #expect(policy.lockout(afterFailures: 13) == 480)
        #expect(policy.lockout(afterFailures: 40) == 3600)
    }
}

@Suite struct AccountRulesTests {
    @Test func usernamesAreLimitedToASafeAlphabet() {
        #expect(throws: Never.self) { try AccountRules.validateUsername("alice.smith-2@corp") }
        for bad in ["", "a b", "<script>", String(repeating: "a", count: 65), "al\u{0}ice"] {
            #expect(throws: PortcullisError.self) { try AccountRules.validateUsername(bad) }
        }
    }

    @Test func passwordsNeedEightCharactersAndAtMost1024Bytes() {
        #expect(throws: PortcullisError.self) { try AccountRules.validatePassword("short") }
        #expect(throws: Never.self) { try AccountRules.validatePassword("long enough") }
        #expect(throws: PortcullisError.self) { try AccountRules.validatePassword(String(repeating: "é", count: 600)) }
    }
}

@Suite struct ConfigurationTests {
    @Test func defaultsAreThoseOfTheDesign() {
        let configuration = PortcullisConfiguration()
        #expect(configuration.host == "127.0.0.1" && configuration.port == 8080)
        #expect(configuration.databasePath == "./data/portcullis.db")
        #expect(configuration.accessTokenTTL == 900 && configuration.refreshTokenTTL == 2_592_000)
        #expect(configuration.argon2.memoryKiB == 19456 && configuration.argon2.iterations == 2 && configuration.argon2.parallelism == 1)
        #expect(configuration.refreshGraceWindow == 0)
    }

    @Test func environmentOverridesDefaults() throws {
        var configuration = PortcullisConfiguration()
        try configuration.apply(environment: ["PORTCULLIS_PORT": "9090", "PORTCULLIS_ISSUER": "https://id.example/", "PORTCULLIS_ARGON2_MEMORY_KIB": "65536", "HOME": "/root"])
        #expect(configuration.port == 9090)
        #expect(configuration.issuer == "https://id.example")
        #expect(configuration.argon2.memoryKiB == 65536)
    }

    @Test func badOrUnknownSettingsAreNamedInTheError() throws {
        var configuration = PortcullisConfiguration()
        #expect(throws: PortcullisError.invalidRequest("PORTCULLIS_PORT=http: expected an integer in 0...65535")) {
            try configuration.apply(environment: ["PORTCULLIS_PORT": "http"])
        }
        #expect(throws: PortcullisError.invalidRequest("unknown setting PORTCULLIS_PROT")) {
            try configuration.apply(environment: ["PORTCULLIS_PROT": "1"])
        }
        #expect(throws: PortcullisError.self) { try configuration.apply(key: "PORTCULLIS_ISSUER", value: "ftp://x") }
        #expect(throws: PortcullisError.invalidRequest("PORTCULLIS_LOG_FORMAT=xml: expected text or json")) {
            try configuration.apply(environment: ["PORTCULLIS_LOG_FORMAT": "xml"])
        }
        #expect(throws: PortcullisError.invalidRequest("PORTCULLIS_LOG_LEVEL=verbose: expected trace, debug, info, notice, warning, error or critical")) {
            try configuration.apply(environment: ["PORTCULLIS_LOG_LEVEL": "verbose"])
        }
        #expect(configuration.logFormat == .text && configuration.logLevel == .info)
        try configuration.apply(environment: ["PORTCULLIS_LOG_FORMAT": "json", "PORTCULLIS_LOG_LEVEL": "warning"])
        #expect(configuration.logFormat == .json && configuration.logLevel == .warning)
    }
}

@Suite struct Argon2CalibrationTests {
    /// A machine where a hash costs `nanosecondsPerKiBPass` per KiB per pass.
    static func machine(_ nanosecondsPerKiBPass: Double) -> Argon2Calibration.Measure {
        { parameters in Double(parameters.memoryKiB) * Double(parameters.iterations) * nanosecondsPerKiBPass / 1e6 }
    }

    @Test func memoryGrowsFirstUntilTheTargetIsMet() throws {
        // 19 MiB × 2 passes = 39 ms here; 100 ms needs about 50 MiB at two passes.
        let result = try Argon2Calibration(measure: Self.machine(1000)).calibrate(targetMilliseconds: 100)
        #expect(result.parameters.iterations == 2 && result.parameters.parallelism == 1)
        #expect((49_000...52_000).contains(result.parameters.memoryKiB))
        #expect(abs(result.milliseconds - 100) < 5)
        #expect(abs(result.loginsPerSecondPerCore - 10) < 0.6)
    }

    @Test func passesGrowOnlyOnceMemoryIsAtItsCap() throws {
        // At a 32 MiB cap two passes take 65.5 ms; 400 ms needs about 12 passes.
        let result = try Argon2Calibration(measure: Self.machine(1000)).calibrate(targetMilliseconds: 400, maximumMemoryKiB: 32_768)
        #expect(result.parameters.memoryKiB == 32_768)
        #expect(result.parameters.iterations == 12)
        #expect(abs(result.milliseconds - 400) < 10)
    }

    @Test func neverBelowOWASPsFloorOnASlowMachine() throws {
        let result = try Argon2Calibration(measure: Self.machine(100_000)).calibrate(targetMilliseconds: 50)
        #expect(result.parameters == .owaspDefault)
        #expect(result.milliseconds > 50)
    }
}

@Suite struct EventLoopThreadsTests {
    @Test func zeroMeansOnePerCore() throws {
        var configuration = PortcullisConfiguration()
        #expect(configuration.resolvedEventLoopThreads(cores: 1) == 1)
        #expect(configuration.resolvedEventLoopThreads(cores: 2) == 2)
        #expect(configuration.resolvedEventLoopThreads(cores: 16) == 16)
        try configuration.apply(environment: ["PORTCULLIS_EVENT_LOOP_THREADS": "3"])
        #expect(configuration.resolvedEventLoopThreads(cores: 16) == 3)
        #expect(throws: PortcullisError.self) { try configuration.apply(environment: ["PORTCULLIS_EVENT_LOOP_THREADS": "-1"]) }
    }
}

@Suite struct WebAuthnConfigurationTests {
    @Test func theRelyingPartyIsTheIssuersHostAndItsOriginUnlessOverridden() throws {
        var configuration = PortcullisConfiguration()
        try configuration.apply(environment: ["PORTCULLIS_ISSUER": "https://login.example.com:8443/"])
        #expect(configuration.webAuthnRelyingPartyID == "login.example.com")
        #expect(configuration.webAuthnOrigins == ["https://login.example.com:8443"])
        try configuration.checkWebAuthn()
        try configuration.apply(environment: ["PORTCULLIS_WEBAUTHN_RP_ID": "example.com",
                                              "PORTCULLIS_WEBAUTHN_ORIGINS": "https://app.example.com, https://example.com"])
        #expect(configuration.webAuthnRelyingPartyID == "example.com")
        #expect(configuration.webAuthnOrigins == ["https://login.example.com:8443", "https://app.example.com", "https://example.com"])
        try configuration.checkWebAuthn()
    }

    @Test func anRPIDBrowsersWouldRefuseStopsTheServerFromStarting() throws {
        var configuration = PortcullisConfiguration()
        try configuration.apply(environment: ["PORTCULLIS_ISSUER": "https://login.example.com", "PORTCULLIS_WEBAUTHN_RP_ID": "evil.example"])
        #expect(throws: PortcullisError.self) { try configuration.checkWebAuthn() }
        // A suffix that is not a parent domain ("ample.com" of "login.example.com") is refused too.
        try configuration.apply(environment: ["PORTCULLIS_WEBAUTHN_RP_ID": "ample.com"])
        #expect(throws: PortcullisError.self) { try configuration.checkWebAuthn() }
        #expect(throws: PortcullisError.self) { try configuration.apply(environment: ["PORTCULLIS_WEBAUTHN_RP_ID": "Example.COM"]) }
        #expect(throws: PortcullisError.self) {
            try configuration.apply(environment: ["PORTCULLIS_WEBAUTHN_ORIGINS": "https://app.example.com/path"])
        }
    }
}

@Suite struct ChallengeBudgetTests {
    @Test func anAddressGetsItsBudgetPerMinuteAndOthersAreUntouched() {
        let budget = ChallengeBudget(perMinute: 3)
        let start = Date(timeIntervalSince1970: 1_700_000_020)  // 40 s into a minute
        for _ in 0..<3 { #expect(budget.spend(address: "192.0.2.1", now: start) == nil) }
        #expect(budget.spend(address: "192.0.2.1", now: start) == 20, "the fourth waits for the next minute")
        #expect(budget.spend(address: "192.0.2.2", now: start) == nil, "another address has its own budget")
        #expect(budget.spend(address: "192.0.2.1", now: start.addingTimeInterval(20)) == nil, "a new minute, a new budget")
    }

    @Test func theTrackedAddressesAreBounded() {
        let budget = ChallengeBudget(perMinute: 1, maximumAddresses: 2)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(budget.spend(address: "a", now: now) == nil)
        #expect(budget.spend(address: "a", now: now) != nil)
        #expect(budget.spend(address: "b", now: now) == nil)
        // A third address starts the counts over rather than growing the table.
        #expect(budget.spend(address: "c", now: now) == nil)
        #expect(budget.spend(address: "a", now: now) == nil)
    }
}
