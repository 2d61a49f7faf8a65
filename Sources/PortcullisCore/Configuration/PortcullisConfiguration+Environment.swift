import Foundation
import Logging
import PortcullisCrypto

extension PortcullisConfiguration {
    /// Environment variables that set each field (`PORTCULLIS_*`, docs/CONFIGURATION.md).
    public static let environmentKeys: [String] = [
        "PORTCULLIS_HOST", "PORTCULLIS_PORT", "PORTCULLIS_DB", "PORTCULLIS_DB_POOL_SIZE", "PORTCULLIS_DB_AUTO_MIGRATE", "PORTCULLIS_REVOCATION_CACHE_SECONDS", "PORTCULLIS_KEYS", "PORTCULLIS_SECRETS_KEY",
        "PORTCULLIS_KEY_ACTIVATION_DELAY", "PORTCULLIS_POLICIES",
        "PORTCULLIS_ISSUER", "PORTCULLIS_ACCESS_TOKEN_TTL", "PORTCULLIS_REFRESH_TOKEN_TTL",
        "PORTCULLIS_REFRESH_GRACE_WINDOW", "PORTCULLIS_ARGON2_MEMORY_KIB", "PORTCULLIS_ARGON2_ITERATIONS",
        "PORTCULLIS_ARGON2_PARALLELISM", "PORTCULLIS_ARGON2_ALLOW_WEAK", "PORTCULLIS_SIGNING_ALG", "PORTCULLIS_ACCOUNT_FAILURE_LIMIT",
        "PORTCULLIS_ADDRESS_FAILURE_LIMIT", "PORTCULLIS_TRUSTED_PROXIES", "PORTCULLIS_TOTP_ISSUER", "PORTCULLIS_WEBAUTHN_RP_ID", "PORTCULLIS_WEBAUTHN_ORIGINS", "PORTCULLIS_DECISION_LOG_SIZE", "PORTCULLIS_JANITOR_INTERVAL",
        "PORTCULLIS_MAX_CONCURRENT_REQUESTS", "PORTCULLIS_REQUEST_TIMEOUT", "PORTCULLIS_IDLE_TIMEOUT",
        "PORTCULLIS_TOKEN_CACHE_SIZE", "PORTCULLIS_EVENT_LOOP_THREADS", "PORTCULLIS_LOG_FORMAT", "PORTCULLIS_LOG_LEVEL",
    ]

    /// Names the configuration file; read by the CLI, not a setting itself.
    public static let configFileVariable = "PORTCULLIS_CONFIG"

    /// Applies every `PORTCULLIS_*` variable present in `environment`; a bad value or an unknown
    /// `PORTCULLIS_` name is an `invalidRequest` naming it.
    public mutating func apply(environment: [String: String]) throws {
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("PORTCULLIS_") && name != Self.configFileVariable {
            try apply(key: name, value: value, source: .environment)
        }
    }

    /// Applies a configuration file: `key = value` lines (`port = 9090` or `PORTCULLIS_PORT = 9090`),
    /// `#` comments and blank lines. Errors name FILE:LINE.
    public mutating func apply(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PortcullisError.invalidRequest("\(path): cannot read the configuration file")
        }
        for (index, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw PortcullisError.invalidRequest("\(path):\(index + 1): expected key = value")
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            let key = name.hasPrefix("PORTCULLIS_") ? name : "PORTCULLIS_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
            do {
                try apply(key: key, value: value, source: .file)
            } catch let error as PortcullisError {
                throw PortcullisError.invalidRequest("\(path):\(index + 1): \(error.description)")
            }
        }
    }

    /// Every setting by its environment name with its current value and where it came from.
    public var settings: [(key: String, value: String, source: ConfigurationSource)] {
        let values: [String: String] = [
            "PORTCULLIS_HOST": host, "PORTCULLIS_PORT": String(port), "PORTCULLIS_DB": database.description,
            "PORTCULLIS_DB_POOL_SIZE": String(databasePoolSize), "PORTCULLIS_DB_AUTO_MIGRATE": autoMigrate ? "1" : "0",
            "PORTCULLIS_REVOCATION_CACHE_SECONDS": String(revocationCacheSeconds),
            "PORTCULLIS_KEYS": keysDirectory, "PORTCULLIS_SECRETS_KEY": secretsKey == nil ? "" : "***",
            "PORTCULLIS_KEY_ACTIVATION_DELAY": String(Int(keyActivationDelay)),
            "PORTCULLIS_POLICIES": policiesDirectory, "PORTCULLIS_ISSUER": issuer,
            "PORTCULLIS_ACCESS_TOKEN_TTL": String(Int(accessTokenTTL)), "PORTCULLIS_REFRESH_TOKEN_TTL": String(Int(refreshTokenTTL)),
            "PORTCULLIS_REFRESH_GRACE_WINDOW": String(Int(refreshGraceWindow)), "PORTCULLIS_ARGON2_MEMORY_KIB": String(argon2.memoryKiB),
            "PORTCULLIS_ARGON2_ITERATIONS": String(argon2.iterations), "PORTCULLIS_ARGON2_PARALLELISM": String(argon2.parallelism),
            "PORTCULLIS_ARGON2_ALLOW_WEAK": allowWeakArgon2 ? "1" : "0",
            "PORTCULLIS_SIGNING_ALG": signingAlgorithm.rawValue, "PORTCULLIS_ACCOUNT_FAILURE_LIMIT": String(accountFailureLimit),
            "PORTCULLIS_ADDRESS_FAILURE_LIMIT": String(addressFailureLimit),
            "PORTCULLIS_TRUSTED_PROXIES": trustedProxies.map(\.description).joined(separator: ","), "PORTCULLIS_TOTP_ISSUER": totpIssuer,
            "PORTCULLIS_WEBAUTHN_RP_ID": webAuthnRelyingPartyIDOverride ?? "", "PORTCULLIS_WEBAUTHN_ORIGINS": webAuthnExtraOrigins.joined(separator: ","),
            "PORTCULLIS_DECISION_LOG_SIZE": String(decisionLogSize), "PORTCULLIS_JANITOR_INTERVAL": String(Int(janitorInterval)), "PORTCULLIS_MAX_CONCURRENT_REQUESTS": String(maxConcurrentRequests),
            "PORTCULLIS_REQUEST_TIMEOUT": String(Int(requestTimeout)), "PORTCULLIS_IDLE_TIMEOUT": String(Int(idleTimeout)),
            "PORTCULLIS_TOKEN_CACHE_SIZE": String(tokenCacheSize), "PORTCULLIS_EVENT_LOOP_THREADS": String(eventLoopThreads),
            "PORTCULLIS_LOG_FORMAT": logFormat.rawValue, "PORTCULLIS_LOG_LEVEL": logLevel.rawValue,
        ]
        return Self.environmentKeys.map { ($0, values[$0] ?? "", sources[$0] ?? .defaults) }
    }

    /// A comma-separated list of CIDR blocks or addresses (empty for none); the first entry that is
    /// neither is named in the error.
    static func networks(key: String, value: String) throws -> [IPNetwork] {
        let entries = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard entries != [""] else { return [] }
        return try entries.map { entry in
            guard let network = IPNetwork(entry) else {
                throw PortcullisError.invalidRequest(
                    "\(key): \"\(entry)\" is not an IPv4 or IPv6 address or CIDR block (such as 10.0.0.0/8 or 2001:db8::/32, host bits zero)")
            }
            return network
        }
    }

    /// Applies one setting by its environment name.
    public mutating func apply(key: String, value: String, source: ConfigurationSource = .flag) throws {
        defer { sources[key] = source }
        func integer(_ range: ClosedRange<Int>) throws -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        switch key {
        case "PORTCULLIS_HOST": host = value
        case "PORTCULLIS_PORT": port = try integer(0...65535)
        case "PORTCULLIS_DB": database = try DatabaseLocation(parsing: value)
        case "PORTCULLIS_DB_POOL_SIZE": databasePoolSize = try integer(1...1000)
        case "PORTCULLIS_DB_AUTO_MIGRATE": databaseAutoMigrate = try integer(0...1) == 1
        case "PORTCULLIS_REVOCATION_CACHE_SECONDS": revocationCacheSeconds = try integer(0...300)
        case "PORTCULLIS_KEYS": keysDirectory = value
        case "PORTCULLIS_SECRETS_KEY":
            // Empty: unset (Keys/secrets.key).
            if !value.isEmpty { _ = try KeyEncryptionKeys(parsing: value) }
            secretsKey = value.isEmpty ? nil : value
        case "PORTCULLIS_KEY_ACTIVATION_DELAY": keyActivationDelay = TimeInterval(try integer(0...86_400))
        case "PORTCULLIS_POLICIES": policiesDirectory = value
        case "PORTCULLIS_ISSUER":
            guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                  url.query == nil, url.fragment == nil else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected an http(s) URL without query or fragment")
            }
            issuer = value.hasSuffix("/") ? String(value.dropLast()) : value
        case "PORTCULLIS_ACCESS_TOKEN_TTL": accessTokenTTL = TimeInterval(try integer(30...86_400))
        case "PORTCULLIS_REFRESH_TOKEN_TTL": refreshTokenTTL = TimeInterval(try integer(60...31_536_000))
        case "PORTCULLIS_REFRESH_GRACE_WINDOW": refreshGraceWindow = TimeInterval(try integer(0...300))
        case "PORTCULLIS_ARGON2_MEMORY_KIB": argon2.memoryKiB = UInt32(try integer(8...4_194_304))
        case "PORTCULLIS_ARGON2_ITERATIONS": argon2.iterations = UInt32(try integer(1...64))
        case "PORTCULLIS_ARGON2_PARALLELISM": argon2.parallelism = UInt32(try integer(1...64))
        case "PORTCULLIS_ARGON2_ALLOW_WEAK": allowWeakArgon2 = try integer(0...1) == 1
        case "PORTCULLIS_SIGNING_ALG":
            guard let alg = JWSAlgorithm(rawValue: value) else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected ES256, EdDSA or RS256")
            }
            signingAlgorithm = alg
        case "PORTCULLIS_ACCOUNT_FAILURE_LIMIT": accountFailureLimit = try integer(1...1000)
        case "PORTCULLIS_ADDRESS_FAILURE_LIMIT": addressFailureLimit = try integer(1...100_000)
        case "PORTCULLIS_TRUSTED_PROXIES": trustedProxies = try Self.networks(key: key, value: value)
        case "PORTCULLIS_DECISION_LOG_SIZE": decisionLogSize = try integer(0...10_000_000)
        case "PORTCULLIS_JANITOR_INTERVAL": janitorInterval = TimeInterval(try integer(1...86_400))
        case "PORTCULLIS_MAX_CONCURRENT_REQUESTS": maxConcurrentRequests = try integer(1...100_000)
        case "PORTCULLIS_REQUEST_TIMEOUT": requestTimeout = TimeInterval(try integer(1...3600))
        case "PORTCULLIS_IDLE_TIMEOUT": idleTimeout = TimeInterval(try integer(1...3600))
        case "PORTCULLIS_TOKEN_CACHE_SIZE": tokenCacheSize = try integer(0...10_000_000)
        case "PORTCULLIS_EVENT_LOOP_THREADS": eventLoopThreads = try integer(0...256)
        case "PORTCULLIS_LOG_FORMAT":
            guard let format = LogFormat(rawValue: value) else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected text or json")
            }
            logFormat = format
        case "PORTCULLIS_LOG_LEVEL":
            guard let level = Logger.Level(rawValue: value) else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected trace, debug, info, notice, warning, error or critical")
            }
            logLevel = level
        case "PORTCULLIS_TOTP_ISSUER":
            guard (1...64).contains(value.count), !value.contains(":") else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected 1-64 characters without ':'")
            }
            totpIssuer = value
        case "PORTCULLIS_WEBAUTHN_RP_ID":
            // A host name (a registrable suffix of the issuer's host: checked by `validateWebAuthn`); empty: the issuer's host.
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
            guard value.isEmpty || (value.count <= 253 && value.allSatisfy(allowed.contains) && !value.hasPrefix(".") && !value.hasSuffix(".")) else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected a lower-case host name such as example.com")
            }
            webAuthnRelyingPartyIDOverride = value.isEmpty ? nil : value
        case "PORTCULLIS_WEBAUTHN_ORIGINS":
            webAuthnExtraOrigins = try value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { origin in
                guard let url = URL(string: origin), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                      url.path.isEmpty, url.query == nil, url.fragment == nil, url.user == nil else {
                    throw PortcullisError.invalidRequest("\(key): \(origin) is not an origin (scheme://host[:port], nothing after)")
                }
                return origin
            }
        default:
            throw PortcullisError.invalidRequest("unknown setting \(key)")
        }
    }
}

extension PortcullisConfiguration {
    /// Refuses a WebAuthn relying-party id that browsers would refuse for the issuer's origin: it
    /// must be the issuer's host or a parent domain of it (WebAuthn Level 2 section 5.1.3).
    public func checkWebAuthn() throws {
        guard let host = URL(string: issuer)?.host?.lowercased() else { return }
        let id = webAuthnRelyingPartyID
        guard host == id || host.hasSuffix("." + id) else {
            throw PortcullisError.invalidRequest(
                "PORTCULLIS_WEBAUTHN_RP_ID=\(id) is neither the issuer's host \(host) nor a parent domain of it; browsers would refuse every passkey")
        }
    }
}
