import PortcullisCore
import Testing

/// `serve` refuses password hashing below OWASP's minimum unless told it is a test (issue 13).
@Suite struct Argon2FloorTests {
    @Test func weakArgon2SettingsFailValidationNamingBothValuesTheFloorAndTheOverride() throws {
        var configuration = PortcullisConfiguration()
        try configuration.apply(environment: ["PORTCULLIS_ARGON2_MEMORY_KIB": "1024", "PORTCULLIS_ARGON2_ITERATIONS": "1"])
        let error = try #require(throws: PortcullisError.self) { try configuration.checkArgon2Floor() }
        let message = error.description
        #expect(message.contains("m=1024 KiB (PORTCULLIS_ARGON2_MEMORY_KIB), t=1 (PORTCULLIS_ARGON2_ITERATIONS)"), "\(message)")
        #expect(message.contains("below the floor of m=19456 KiB, t=2"), "\(message)")
        #expect(message.contains("PORTCULLIS_ARGON2_ALLOW_WEAK=1"), "\(message)")
    }

    @Test func eitherValueBelowTheFloorIsEnoughToFail() throws {
        var lowMemory = PortcullisConfiguration()
        try lowMemory.apply(environment: ["PORTCULLIS_ARGON2_MEMORY_KIB": "19455", "PORTCULLIS_ARGON2_ITERATIONS": "8"])
        #expect(throws: PortcullisError.self) { try lowMemory.checkArgon2Floor() }
        var onePass = PortcullisConfiguration()
        try onePass.apply(environment: ["PORTCULLIS_ARGON2_MEMORY_KIB": "1048576", "PORTCULLIS_ARGON2_ITERATIONS": "1"])
        #expect(throws: PortcullisError.self) { try onePass.checkArgon2Floor() }
    }

    @Test func theAllowWeakFlagLetsWeakSettingsPass() throws {
        var configuration = PortcullisConfiguration()
        try configuration.apply(environment: [
            "PORTCULLIS_ARGON2_MEMORY_KIB": "1024", "PORTCULLIS_ARGON2_ITERATIONS": "1", "PORTCULLIS_ARGON2_ALLOW_WEAK": "1"])
        #expect(configuration.allowWeakArgon2)
        #expect(throws: Never.self) { try configuration.checkArgon2Floor() }
        // 0 is the default and means no; anything else is a named error.
        try configuration.apply(environment: ["PORTCULLIS_ARGON2_ALLOW_WEAK": "0"])
        #expect(throws: PortcullisError.self) { try configuration.checkArgon2Floor() }
        #expect(throws: PortcullisError.invalidRequest("PORTCULLIS_ARGON2_ALLOW_WEAK=yes: expected an integer in 0...1")) {
            try configuration.apply(environment: ["PORTCULLIS_ARGON2_ALLOW_WEAK": "yes"])
        }
    }

    @Test func theOWASPDefaultAndStrongerSettingsPass() throws {
        #expect(throws: Never.self) { try PortcullisConfiguration().checkArgon2Floor() }
        var stronger = PortcullisConfiguration()
        try stronger.apply(environment: ["PORTCULLIS_ARGON2_MEMORY_KIB": "65536", "PORTCULLIS_ARGON2_ITERATIONS": "3"])
        #expect(throws: Never.self) { try stronger.checkArgon2Floor() }
    }

    @Test func theOverrideIsAKnownSettingThatConfigPrints() throws {
        #expect(PortcullisConfiguration.environmentKeys.contains("PORTCULLIS_ARGON2_ALLOW_WEAK"))
        var configuration = PortcullisConfiguration()
        #expect(configuration.settings.first { $0.key == "PORTCULLIS_ARGON2_ALLOW_WEAK" }.map { ($0.value, $0.source) } ?? ("", .flag) == ("0", .defaults))
        try configuration.apply(environment: ["PORTCULLIS_ARGON2_ALLOW_WEAK": "1"])
        #expect(configuration.settings.first { $0.key == "PORTCULLIS_ARGON2_ALLOW_WEAK" }.map { ($0.value, $0.source) } ?? ("", .flag) == ("1", .environment))
    }
}
