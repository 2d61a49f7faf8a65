import Foundation
import PortcullisCrypto

extension PortcullisConfiguration {
    /// Environment variables that set each field (`PORTCULLIS_*`, DESIGN.md section 3).
    public static let environmentKeys: [String] = [
        "PORTCULLIS_HOST", "PORTCULLIS_PORT", "PORTCULLIS_DB", "PORTCULLIS_KEYS", "PORTCULLIS_POLICIES",
        "PORTCULLIS_ISSUER", "PORTCULLIS_ACCESS_TOKEN_TTL", "PORTCULLIS_REFRESH_TOKEN_TTL",
        "PORTCULLIS_REFRESH_GRACE_WINDOW", "PORTCULLIS_ARGON2_MEMORY_KIB", "PORTCULLIS_ARGON2_ITERATIONS",
        "PORTCULLIS_ARGON2_PARALLELISM", "PORTCULLIS_SIGNING_ALG", "PORTCULLIS_ACCOUNT_FAILURE_LIMIT",
        "PORTCULLIS_ADDRESS_FAILURE_LIMIT", "PORTCULLIS_TOTP_ISSUER", "PORTCULLIS_DECISION_LOG_SIZE",
        "PORTCULLIS_MAX_CONCURRENT_REQUESTS", "PORTCULLIS_IDLE_TIMEOUT",
    ]

    /// Applies every `PORTCULLIS_*` variable present in `environment`; a bad value or an unknown
    /// `PORTCULLIS_` name is an `invalidRequest` naming it.
    public mutating func apply(environment: [String: String]) throws {
        for (name, value) in environment where name.hasPrefix("PORTCULLIS_") {
            try apply(key: name, value: value)
        }
    }

    /// Applies one setting by its environment name.
    public mutating func apply(key: String, value: String) throws {
        func integer(_ range: ClosedRange<Int>) throws -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        switch key {
        case "PORTCULLIS_HOST": host = value
        case "PORTCULLIS_PORT": port = try integer(0...65535)
        case "PORTCULLIS_DB": databasePath = value
        case "PORTCULLIS_KEYS": keysDirectory = value
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
        case "PORTCULLIS_SIGNING_ALG":
            guard let alg = JWSAlgorithm(rawValue: value) else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected ES256, EdDSA or RS256")
            }
            signingAlgorithm = alg
        case "PORTCULLIS_ACCOUNT_FAILURE_LIMIT": accountFailureLimit = try integer(1...1000)
        case "PORTCULLIS_ADDRESS_FAILURE_LIMIT": addressFailureLimit = try integer(1...100_000)
        case "PORTCULLIS_DECISION_LOG_SIZE": decisionLogSize = try integer(0...10_000_000)
        case "PORTCULLIS_MAX_CONCURRENT_REQUESTS": maxConcurrentRequests = try integer(1...100_000)
        case "PORTCULLIS_IDLE_TIMEOUT": idleTimeout = TimeInterval(try integer(1...3600))
        case "PORTCULLIS_TOTP_ISSUER":
            guard (1...64).contains(value.count), !value.contains(":") else {
                throw PortcullisError.invalidRequest("\(key)=\(value): expected 1-64 characters without ':'")
            }
            totpIssuer = value
        default:
            throw PortcullisError.invalidRequest("unknown setting \(key)")
        }
    }
}
