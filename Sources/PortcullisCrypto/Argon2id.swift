internal import CArgon2
import Foundation

/// Argon2id cost parameters.
public struct Argon2Parameters: Sendable, Equatable, Codable {
    /// Memory in KiB.
    public var memoryKiB: UInt32
    /// Passes over memory.
    public var iterations: UInt32
    /// Lanes (threads).
    public var parallelism: UInt32

    /// Creates parameters.
    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// OWASP's minimum for Argon2id: m=19 MiB, t=2, p=1.
    public static let owaspDefault = Argon2Parameters(memoryKiB: 19456, iterations: 2, parallelism: 1)

    /// Largest parameters accepted from a stored hash, so a tampered hash cannot exhaust the machine.
    static let ceiling = Argon2Parameters(memoryKiB: 1_048_576, iterations: 64, parallelism: 64)
}

/// Argon2id (RFC 9106) password hashing over libargon2, in PHC string form.
public enum Argon2id {
    static let saltLength = 16
    static let hashLength = 32

    /// `$argon2id$v=19$m=…,t=…,p=…$salt$hash` with a random 16-byte salt unless one is given.
    public static func hash(password: String, parameters: Argon2Parameters, salt: [UInt8]? = nil) throws -> String {
        let salt = salt ?? SecureRandom.bytes(saltLength)
        let passwordBytes = Array(password.utf8)
        let length = argon2_encodedlen(parameters.iterations, parameters.memoryKiB, parameters.parallelism, UInt32(salt.count), UInt32(hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: length)
        let result = passwordBytes.withUnsafeBytes { passwordBuffer in
            argon2id_hash_encoded(
                parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                passwordBuffer.baseAddress, passwordBytes.count, salt, salt.count, hashLength, &encoded, length)
        }
        guard result == ARGON2_OK.rawValue else { throw CryptoError.argon2(String(cString: argon2_error_message(result))) }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The raw tag, with optional secret and associated data (RFC 9106's full interface).
    public static func rawHash(password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [], parameters: Argon2Parameters, tagLength: Int = 32) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: tagLength)
        var password = password, salt = salt, secret = secret, associatedData = associatedData
        let result = output.withUnsafeMutableBufferPointer { out in
            password.withUnsafeMutableBufferPointer { pwd in
                salt.withUnsafeMutableBufferPointer { saltBuffer in
                    secret.withUnsafeMutableBufferPointer { secretBuffer in
                        associatedData.withUnsafeMutableBufferPointer { adBuffer in
                            var context = argon2_context(
                                out: out.baseAddress, outlen: UInt32(tagLength),
                                pwd: pwd.baseAddress, pwdlen: UInt32(pwd.count),
                                salt: saltBuffer.baseAddress, saltlen: UInt32(saltBuffer.count),
                                secret: secretBuffer.baseAddress, secretlen: UInt32(secretBuffer.count),
                                ad: adBuffer.baseAddress, adlen: UInt32(adBuffer.count),
                                t_cost: parameters.iterations, m_cost: parameters.memoryKiB,
                                lanes: parameters.parallelism, threads: parameters.parallelism,
                                version: UInt32(ARGON2_VERSION_13.rawValue),
                                allocate_cbk: nil, free_cbk: nil, flags: 0)
                            return argon2_ctx(&context, Argon2_id)
                        }
                    }
                }
            }
        }
        guard result == ARGON2_OK.rawValue else { throw CryptoError.argon2(String(cString: argon2_error_message(result))) }
        return output
    }

    /// True only when `encoded` is a sane Argon2id hash of `password`; never throws.
    public static func verify(password: String, encoded: String) -> Bool {
        guard let parameters = parameters(ofEncoded: encoded),
              parameters.memoryKiB <= Argon2Parameters.ceiling.memoryKiB,
              parameters.iterations <= Argon2Parameters.ceiling.iterations,
              parameters.parallelism <= Argon2Parameters.ceiling.parallelism else { return false }
        let passwordBytes = Array(password.utf8)
        return passwordBytes.withUnsafeBytes { buffer in
            argon2id_verify(encoded, buffer.baseAddress, passwordBytes.count) == ARGON2_OK.rawValue
        }
    }

    /// The m, t, p of an Argon2id PHC string, or nil when it is not one.
    public static func parameters(ofEncoded encoded: String) -> Argon2Parameters? {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0].isEmpty, fields[1] == "argon2id", fields[2] == "v=19" else { return nil }
        var values: [Substring: UInt32] = [:]
        for pair in fields[3].split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let number = UInt32(parts[1]) else { return nil }
            values[parts[0]] = number
        }
        guard values.count == 3, let m = values["m"], let t = values["t"], let p = values["p"], m > 0, t > 0, p > 0 else { return nil }
        return Argon2Parameters(memoryKiB: m, iterations: t, parallelism: p)
    }

    /// True when the stored hash is unparsable or any of its m, t, p is below `target`.
    public static func needsRehash(encoded: String, target: Argon2Parameters) -> Bool {
        guard let stored = parameters(ofEncoded: encoded) else { return true }
        return stored.memoryKiB < target.memoryKiB || stored.iterations < target.iterations || stored.parallelism < target.parallelism
    }
}
