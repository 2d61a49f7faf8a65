/// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP).
public struct TOTP: Sendable, Equatable {
    /// HMAC hash: SHA-1 by default, as every authenticator app supports.
    public var algorithm: HashAlgorithm
    /// Code length: 6 or 8.
    public var digits: Int
    /// Seconds per step.
    public var period: Int

    /// RFC 6238 defaults: SHA-1, 6 digits, 30 seconds.
    public static let standard = TOTP(algorithm: .sha1, digits: 6, period: 30)

    /// A generator with the given parameters.
    public init(algorithm: HashAlgorithm, digits: Int, period: Int) {
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
    }

    /// The time step containing `unixTime`.
    public func step(at unixTime: Int64) -> Int64 {
        unixTime / Int64(period)
    }

    /// The code for one step, zero-padded to `digits`.
    public func code(secret: [UInt8], step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = HMAC.authenticationCode(algorithm, key: secret, message: message)
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The step among `step-window ... step+window` whose code equals `candidate`, or nil.
    ///
    /// Every step in the window is compared in constant time, with no early exit.
    public func matchingStep(secret: [UInt8], candidate: String, around step: Int64, window: Int64 = 1) -> Int64? {
        let candidateBytes = Array(candidate.utf8)
        var match: Int64?
        for offset in -window...window {
            let expected = Array(code(secret: secret, step: step + offset).utf8)
            if ConstantTime.equals(expected, candidateBytes), match == nil { match = step + offset }
        }
        return match
    }
}
