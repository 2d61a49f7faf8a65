import Foundation
import PortcullisCore
import PortcullisPostgres
import PortcullisSQLite
import Testing

/// `portcullis migrate import`'s two halves, end to end: what a real SQLite store dumps, PostgreSQL
/// loads, and reads back unchanged through the store protocols (booleans stored as integers,
/// blobs, a 64-bit count, JSON lists, empty blobs and NULLs each cross).
@Suite struct PostgresImportTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func passkeysHandlesAndChallengesCrossFieldForField() async throws {
        guard let factory = try PostgresStoreFactory.fromEnvironment() else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try SQLiteStore(path: directory.appendingPathComponent("source.db").path)
        let alice = User(id: "id-alice", username: "alice", email: nil, passwordHash: "$argon2id$stub", disabled: false, createdAt: now, updatedAt: now)
        try await source.createUser(alice)
        let everything = Passkey(
            id: "pk-1", userID: alice.id, credentialID: (0..<1023).map { UInt8(truncatingIfNeeded: $0) }, publicKey: [0xa5, 1, 2, 3, 0x26],
            algorithm: -8, signCount: .max, transports: ["usb", "nfc"], backupEligible: true, backedUp: true, name: "Yubikey «5»",
            createdAt: now, lastUsedAt: now.addingTimeInterval(1.5), flaggedAt: now.addingTimeInterval(2.25), aaguid: Array(1...16),
            attestationFormat: "packed")
        let bare = Passkey(
            id: "pk-2", userID: alice.id, credentialID: [9], publicKey: [8], algorithm: -7, signCount: 0, transports: [], backupEligible: false,
            backedUp: false, name: "", createdAt: now.addingTimeInterval(5), aaguid: [], attestationFormat: "none")
        try await source.addPasskey(everything)
        try await source.addPasskey(bare)
        let handle = Array(repeating: UInt8(0x5a), count: 64)
        _ = try await source.ensureWebAuthnUserHandle(userID: alice.id, candidate: handle)
        let mfa = WebAuthnChallenge(key: "k-mfa", purpose: "mfa", userID: alice.id, challenge: Array(repeating: 1, count: 32), expiresAt: now)
        let login = WebAuthnChallenge(key: "k-login", purpose: "login", userID: nil, challenge: Array(repeating: 2, count: 32), expiresAt: now)
        try await source.saveWebAuthnChallenge(mfa)
        try await source.saveWebAuthnChallenge(login)

        let target = try #require(try await factory.makeStore() as? PostgresStore)
        do {
            try await target.loadTables(try await source.dumpTables())
            #expect(try await target.passkeys(userID: alice.id) == [everything, bare])
            #expect(try await target.webAuthnUserHandle(userID: alice.id) == handle)
            #expect(try await target.userID(webAuthnUserHandle: handle) == alice.id)
            #expect(try await target.consumeWebAuthnChallenge(key: "k-mfa") == mfa)
            #expect(try await target.consumeWebAuthnChallenge(key: "k-login") == login)
            #expect(try await target.advancePasskeySignCount(id: bare.id, from: 0, to: 1, at: now), "the copied count takes part in the compare-and-set")
        } catch {
            await factory.shutDown()
            throw error
        }
        await factory.shutDown()
    }
}
