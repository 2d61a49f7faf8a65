import Foundation
import Logging
import PortcullisCore
import PortcullisPostgres
import Synchronization
import Testing

/// Signing keys shared through PostgreSQL, on two stores standing in for two replicas.
@Suite struct PostgresSigningKeyTests {
    let secrets = try! KeyEncryptionKeys([[UInt8](repeating: 7, count: 32)])

    func replicas() async throws -> [PostgresStore]? {
        guard let factory = try PostgresStoreFactory.fromEnvironment() else { return nil }
        return try await factory.makeReplicas(2).map { $0 as! PostgresStore }
    }

    @Test func replicasStartingTogetherOnAnEmptyTableCreateOneSetOfKeys() async throws {
        guard let stores = try await replicas() else { return }
        let created = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<6 {
                group.addTask {
                    try await StoredKeyAdministration(store: stores[index % 2], secrets: self.secrets).createInitialKeys(signingAlgorithm: .es256)
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(created == 1, "one replica made the first keys")
        #expect(try await stores[1].signingKeys().count == 2)
    }

    @Test func concurrentFirstKeyInsertsOnTwoReplicasLetExactlyOneIn() async throws {
        // The same race without key generation in front of it, so the inserts meet in the database.
        guard let stores = try await replicas() else { return }
        // Open each pool's connections first, so the inserts start together.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<24 { group.addTask { _ = try await stores[index % 2].signingKeys() } }
            try await group.waitForAll()
        }
        let now = Date()
        let inserted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<24 {
                let row = StoredSigningKey(kid: "k\(index)", alg: .es256, sealedPrivateKey: [UInt8(index)], sealedWith: "x", signs: true,
                                           createdAt: now, activatesAt: now)
                group.addTask { try await stores[index % 2].addSigningKeys([row], onlyIfEmpty: true) }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(inserted == 1, "inserts that found the table empty")
        #expect(try await stores[0].signingKeys().count == 1)
    }

    @Test func replicasShareTheSigningKey() async throws {
        guard let stores = try await replicas() else { return }
        _ = try await StoredKeyAdministration(store: stores[0], secrets: secrets).createInitialKeys(signingAlgorithm: .es256)
        let rings = [try await StoredKeyRing(store: stores[0], secrets: secrets), try await StoredKeyRing(store: stores[1], secrets: secrets)]
        #expect(rings[0].current().signingKID == rings[1].current().signingKID)
    }

    @Test func aRotationOnOneReplicaReachesTheOtherByNotification() async throws {
        guard let stores = try await replicas() else { return }
        _ = try await StoredKeyAdministration(store: stores[0], secrets: secrets).createInitialKeys(signingAlgorithm: .es256)
        let ring = try await StoredKeyRing(store: stores[1], secrets: secrets)
        let reports = Mutex<[String]>([])
        let watcher = Task { await ring.watch { message in reports.withLock { $0.append(message) } } }
        defer { watcher.cancel() }
        // Listening has begun once the watcher's first reload ran; give it a moment.
        try await Task.sleep(for: .milliseconds(300))
        let rotated = try await StoredKeyAdministration(store: stores[0], secrets: secrets).rotate(.edDSA, activationDelay: 600)
        let deadline = ContinuousClock.now + .seconds(3)
        while ring.current().key(kid: rotated.kid) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(ring.current().key(kid: rotated.kid) != nil, "replica B verifies A's new key without polling (\(reports.withLock { $0 }))")
        #expect(ring.current().signingKID != rotated.kid, "and does not sign with it before its activation")
        try await StoredKeyAdministration(store: stores[0], secrets: secrets).retire(kid: rotated.kid)
        let retiredBy = ContinuousClock.now + .seconds(3)
        while ring.current().key(kid: rotated.kid) != nil, ContinuousClock.now < retiredBy {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(ring.current().key(kid: rotated.kid) == nil, "a retirement reaches it the same way")
    }
}
