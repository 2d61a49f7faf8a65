internal import COpenSSL

/// A failure in a cryptographic operation or in parsing cryptographic input.
public enum CryptoError: Error, Equatable, Sendable {
    /// OpenSSL reported an error (its error queue, drained).
    case openSSL(String)
    /// The key is unusable for the requested operation.
    case invalidKey(String)
    /// The algorithm is not one we accept here.
    case unsupportedAlgorithm(String)
    /// The input is not well-formed.
    case malformed(String)
    /// libargon2 reported an error.
    case argon2(String)
}

enum OpenSSLError {
    /// Drains OpenSSL's thread-local error queue into one error.
    static func drain(_ context: String) -> CryptoError {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return .openSSL(messages.isEmpty ? context : "\(context): \(messages.joined(separator: "; "))")
    }

    /// Forgets queued errors after an expected failure (e.g. a bad signature).
    static func clear() {
        ERR_clear_error()
    }
}
