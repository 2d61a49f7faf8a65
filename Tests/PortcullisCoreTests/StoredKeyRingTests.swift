import Foundation
import PortcullisCrypto
import Synchronization
import Testing
@testable import PortcullisCore

/// A `SigningKeyStore` in memory, counting reads, for the ring's rules without a database.
final class MemorySigningKeyStore: SigningKeyStore {
    let rows = Mutex<[StoredSigningKey]>([])
    let reads = Mutex(0)

    func signingKeys() async throws -> [StoredSigningKey] {
        reads.withLock { $0 += 1 }
        return rows.withLock { $0 }
    }

    func addSigningKeys(_ keys: [StoredSigningKey], onlyIfEmpty: Bool) async throws -> Bool {
        rows.withLock { rows in
            if onlyIfEmpty, !rows.isEmpty { return false }
            rows += keys
            return true
        }
    }

    func retireSigningKey(kid: String, at: Date) async throws -> Bool {
        rows.withLock { rows in
            guard let index = rows.firstIndex(where: { $0.kid == kid && $0.retiredAt == nil }) else { return false }
            rows[index].retiredAt = at
            return true
        }
    }

    func resealSigningKey(kid: String, expected: [UInt8], box: [UInt8], sealedWith: String) async throws -> Bool {
        rows.withLock { rows in
            guard let index = rows.firstIndex(where: { $0.kid == kid && $0.sealedPrivateKey == expected }) else { return false }
            rows[index].sealedPrivateKey = box
            rows[index].sealedWith = sealedWith
            return true
        }
    }

    func watchSigningKeys(_ onChange: @escaping @Sendable () async -> Void) async throws {
        try await Task.sleep(for: .seconds(3600))
    }
}

/// A clock the test moves.
final class TestClock: Sendable {
    let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    func read() -> Date { now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

// Serialized: each test generates RSA keys, CPU work that would otherwise hold several of the
// cooperative pool's threads at once while the whole suite runs in parallel.
@Suite(.serialized) struct StoredKeyRingTests {
    let oldKey = [UInt8](repeating: 1, count: 32)
    let newKey = [UInt8](repeating: 2, count: 32)

    @Test func aRotatedKeyIsPublishedAtOnceAndSignsOnlyFromItsActivation() async throws {
        let store = MemorySigningKeyStore()
        let clock = TestClock()
        let secrets = try KeyEncryptionKeys([oldKey])
        let administration = StoredKeyAdministration(store: store, secrets: secrets, clock: clock.read)
        #expect(try await administration.createInitialKeys(signingAlgorithm: .es256))
        #expect(try await !administration.createInitialKeys(signingAlgorithm: .es256), "a second replica creates nothing")
        let ring = try await StoredKeyRing(store: store, secrets: secrets, clock: clock.read)
        let first = ring.current().signingKID
        #expect(ring.current().keys.count == 2, "the signing key and the RS256 ID-token key")

        let rotated = try await administration.rotate(.edDSA, activationDelay: 30)
        try await ring.reload()
        let published = ring.current()
        #expect(published.signingKID == first, "not signing before its activation")
        #expect(published.key(kid: rotated.kid) != nil, "but verifying")
        #expect(try published.jwks().keys.contains { $0.kid == rotated.kid }, "and published")
        #expect(published.newestKey(.edDSA) == nil, "a pending key signs no ID token either")

        clock.advance(30)
        let reads = store.reads.withLock { $0 }
        #expect(ring.current().signingKID == rotated.kid, "signing once its activation passed")
        #expect(store.reads.withLock { $0 } == reads, "without reading the database again")
        #expect(try await administration.list().first { $0.key.kid == first }?.state == "live")
    }

    @Test func keysSealedUnderAnOldKeyOpenAfterANewOneIsPutFirstAndRewrapReseals() async throws {
        let store = MemorySigningKeyStore()
        let old = try KeyEncryptionKeys([oldKey])
        _ = try await StoredKeyAdministration(store: store, secrets: old).createInitialKeys(signingAlgorithm: .es256)
        let both = try KeyEncryptionKeys([newKey, oldKey])
        let ring = try await StoredKeyRing(store: store, secrets: both)
        let signing = ring.current().signingKID

        #expect(try await StoredKeyAdministration(store: store, secrets: both).rewrap() == 2)
        #expect(store.rows.withLock { $0 }.allSatisfy { $0.sealedWith == KeyEncryptionKeys.id(of: newKey) })
        let onlyNew = try await StoredKeyRing(store: store, secrets: try KeyEncryptionKeys([newKey]))
        #expect(onlyNew.current().signingKID == signing, "the old key can go once every key is rewrapped")
        await #expect(throws: PortcullisError.self, "the old key alone opens nothing now") {
            _ = try await StoredKeyRing(store: store, secrets: old)
        }
    }

    @Test func aSealedKeyMovedToAnotherRowDoesNotOpen() async throws {
        let store = MemorySigningKeyStore()
        let secrets = try KeyEncryptionKeys([oldKey])
        _ = try await StoredKeyAdministration(store: store, secrets: secrets).createInitialKeys(signingAlgorithm: .es256)
        store.rows.withLock { rows in
            // The RS256 key's box under the ES256 key's kid: the associated data (kid, alg) differs.
            rows[0].sealedPrivateKey = rows[1].sealedPrivateKey
        }
        await #expect(throws: PortcullisError.self) { _ = try await StoredKeyRing(store: store, secrets: secrets) }
    }

    @Test func theSigningKeyCannotBeRetiredAndTheLastRS256KeyIsReplaced() async throws {
        let store = MemorySigningKeyStore()
        let secrets = try KeyEncryptionKeys([oldKey])
        let administration = StoredKeyAdministration(store: store, secrets: secrets)
        _ = try await administration.createInitialKeys(signingAlgorithm: .es256)
        let rows = store.rows.withLock { $0 }
        await #expect(throws: PortcullisError.conflict("key \(rows[0].kid) is the signing key; rotate first")) {
            try await administration.retire(kid: rows[0].kid)
        }
        try await administration.retire(kid: rows[1].kid)
        let after = store.rows.withLock { $0 }
        #expect(after.count == 3 && after[2].alg == .rs256 && after[2].retiredAt == nil, "a fresh RS256 key for ID tokens")
    }

    @Test func anUnknownKidReloadsAtMostOncePerInterval() async throws {
        let store = MemorySigningKeyStore()
        let secrets = try KeyEncryptionKeys([oldKey])
        _ = try await StoredKeyAdministration(store: store, secrets: secrets).createInitialKeys(signingAlgorithm: .es256)
        let ring = try await StoredKeyRing(store: store, secrets: secrets)
        let before = store.reads.withLock { $0 }
        #expect(await ring.refreshForUnknownKey())
        #expect(await !ring.refreshForUnknownKey(), "a flood of unknown kids costs one read per interval")
        #expect(store.reads.withLock { $0 } == before + 1)
    }

    @Test func aDirectorysLiveKeysImportWithItsSigningKeySigning() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-import-\(UUID().uuidString)").path
        let directory = KeyDirectory(path: path)
        try directory.prepare(signingAlgorithm: .es256)
        let retired = try directory.rotate(.es256)
        let signing = try directory.rotate(.edDSA)
        try directory.retire(kid: retired.kid)
        let store = MemorySigningKeyStore()
        let secrets = try KeyEncryptionKeys([oldKey])
        let administration = StoredKeyAdministration(store: store, secrets: secrets)
        let imported = try await administration.importKeys(from: directory)
        #expect(Set(imported.map(\.kid)) == Set(try directory.load().keys.keys), "every live key, no retired one")
        let ring = try await StoredKeyRing(store: store, secrets: secrets)
        #expect(ring.current().signingKID == signing.kid)
        #expect(ring.current().key(kid: retired.kid) == nil)
        await #expect(throws: PortcullisError.self, "only into an empty table") { _ = try await administration.importKeys(from: directory) }
    }

    @Test func secretsKeysParseFromBase64URLOrBase64AndRefuseOtherLengths() throws {
        let a = Base64URL.encode(oldKey), b = Data(newKey).base64EncodedString()
        let keys = try KeyEncryptionKeys(parsing: "\(a), \(b)")
        #expect(keys.keys == [oldKey, newKey])
        #expect(throws: PortcullisError.self) { try KeyEncryptionKeys(parsing: Base64URL.encode([UInt8](repeating: 1, count: 16))) }
        #expect(throws: PortcullisError.self) { try KeyEncryptionKeys(parsing: "not base64!") }
    }
}
