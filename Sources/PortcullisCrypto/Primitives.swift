internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    /// `count` random bytes; stops the process if the CSPRNG fails (never run without randomness).
    public static func bytes(_ count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        guard count == 0 || RAND_bytes(&buffer, Int32(count)) == 1 else {
            fatalError("OpenSSL RAND_bytes failed: refusing to continue without randomness")
        }
        return buffer
    }

    /// Base64url text of `byteCount` random bytes (default 256 bits).
    public static func token(byteCount: Int = 32) -> String {
        Base64URL.encode(bytes(byteCount))
    }
}

/// Comparison of secrets whose time does not depend on where they differ.
public enum ConstantTime {
    /// True when both have the same length and bytes; time depends only on the length.
    public static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let left = Array(a), right = Array(b)
        guard left.count == right.count else { return false }
        guard !left.isEmpty else { return true }
        return CRYPTO_memcmp(left, right, left.count) == 0
    }
}

/// Hash functions used for digests and HMAC.
public enum HashAlgorithm: String, Sendable, CaseIterable {
    /// SHA-1 (only for HMAC in TOTP, RFC 6238's default).
    case sha1 = "SHA1"
    /// SHA-256.
    case sha256 = "SHA256"
    /// SHA-512.
    case sha512 = "SHA512"

    /// The digest, fetched from the default provider once per process (`EVP_sha256()` and its
    /// siblings make OpenSSL 3 fetch it again, a provider lookup under a lock, at every use).
    var evp: OpaquePointer {
        switch self {
        case .sha1: Self.fetched.sha1
        case .sha256: Self.fetched.sha256
        case .sha512: Self.fetched.sha512
        }
    }

    nonisolated(unsafe) private static let fetched = (sha1: EVP_MD_fetch(nil, "SHA1", nil) ?? EVP_sha1()!,
                                                      sha256: EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()!,
                                                      sha512: EVP_MD_fetch(nil, "SHA512", nil) ?? EVP_sha512()!)
}

/// One-shot message digests.
public enum Digest {
    /// SHA-256 of bytes.
    public static func sha256(_ data: some Collection<UInt8>) -> [UInt8] {
        hash(.sha256, data)
    }

    /// SHA-256 of a string's UTF-8 bytes.
    public static func sha256(_ text: String) -> [UInt8] {
        hash(.sha256, Array(text.utf8))
    }

    /// Digest of `data` with `algorithm`.
    public static func hash(_ algorithm: HashAlgorithm, _ data: some Collection<UInt8>) -> [UInt8] {
        let input = Array(data)
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_Digest(input, input.count, &output, &length, algorithm.evp, nil) == 1 else {
            fatalError("EVP_Digest failed for \(algorithm.rawValue)")
        }
        return Array(output.prefix(Int(length)))
    }
}

/// HMAC (RFC 2104) over OpenSSL.
public enum HMAC {
    /// The authentication code of `message` under `key`.
    public static func authenticationCode(_ algorithm: HashAlgorithm, key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        let keyBytes = Array(key), input = Array(message)
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = keyBytes.withUnsafeBytes { keyBuffer in
            COpenSSL.HMAC(algorithm.evp, keyBuffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(keyBytes.count), input, input.count, &output, &length)
        }
        guard result != nil else { fatalError("HMAC failed for \(algorithm.rawValue)") }
        return Array(output.prefix(Int(length)))
    }
}

/// Lowercase hexadecimal text of bytes (Foundation's `String(format: "%02x")` per byte cost
/// microseconds each; a SHA-256 digest is 32 of them, on every client authentication).
public enum Hex {
    @usableFromInline static let digits = Array("0123456789abcdef".utf8)

    /// `bytes` as lowercase hex, two characters per byte. Inlinable, so callers in other modules
    /// get a version specialised to their collection (the generic one cost 2 % of an introspection).
    @inlinable
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            var index = 0
            for byte in bytes {
                buffer[index] = digits[Int(byte >> 4)]
                buffer[index + 1] = digits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }

    /// The value of one hexadecimal digit's ASCII byte (either case), nil for any other byte.
    @inlinable
    public static func digitValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The bytes of hexadecimal text (either case); nil for an odd length or any other character.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let high = digitValue(characters[index]), let low = digitValue(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
