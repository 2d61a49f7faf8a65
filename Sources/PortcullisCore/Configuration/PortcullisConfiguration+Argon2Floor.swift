public import PortcullisCrypto

extension PortcullisConfiguration {
    /// The weakest Argon2id settings `serve` accepts: OWASP's minimum, m=19456 KiB and t=2.
    public static let argon2Floor = Argon2Parameters.owaspDefault

    /// Refuses Argon2id settings below `argon2Floor` unless `PORTCULLIS_ARGON2_ALLOW_WEAK=1`.
    ///
    /// Settings of m=1024, t=1 make tests fast and make a stolen database cheap to crack; a
    /// server started with them by mistake (a test's environment left in a unit file) would hash
    /// every new password that way, so it refuses to start instead.
    /// - Throws: `PortcullisError.invalidRequest` naming both values, the floor and the override.
    public func checkArgon2Floor() throws {
        let floor = Self.argon2Floor
        guard !allowWeakArgon2, argon2.memoryKiB < floor.memoryKiB || argon2.iterations < floor.iterations else { return }
        throw PortcullisError.invalidRequest(
            "Argon2id settings m=\(argon2.memoryKiB) KiB (PORTCULLIS_ARGON2_MEMORY_KIB), t=\(argon2.iterations) (PORTCULLIS_ARGON2_ITERATIONS) "
                + "are below the floor of m=\(floor.memoryKiB) KiB, t=\(floor.iterations); raise them "
                + "(`portcullis hash calibrate` suggests values) or set PORTCULLIS_ARGON2_ALLOW_WEAK=1 to accept weak password hashes")
    }
}
