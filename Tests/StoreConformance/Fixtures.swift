import Foundation
import PortcullisCore
import PortcullisCrypto

/// A fixed instant: stores take every time from their caller, so none depends on the wall clock.
let now = Date(timeIntervalSince1970: 1_700_000_000)

func makeUser(_ name: String = "alice") -> User {
    User(id: "id-\(name.lowercased())", username: name, email: "\(name)@example.com", passwordHash: "$argon2id$stub",
         disabled: false, createdAt: now, updatedAt: now)
}

func record(_ hash: String, at date: Date = now, ttl: TimeInterval = 3600) -> RefreshTokenRecord {
    RefreshTokenRecord(tokenHash: hash, familyID: "", issuedAt: date, expiresAt: date.addingTimeInterval(ttl))
}

func makeClient(_ id: String = "app", secretHash: String? = nil) -> OAuthClient {
    OAuthClient(id: id, name: "App \(id)", secretHash: secretHash, redirectURIs: ["https://app.example/cb"],
                postLogoutRedirectURIs: ["https://app.example/bye"], scopes: ["openid", "profile"],
                grantTypes: [.authorizationCode, .refreshToken], resources: ["https://api.example"], pkceRequired: true,
                idTokenAlgorithm: .es256, firstParty: false, createdAt: now)
}

func makeCode(_ hash: String, client: String = "app", user: User, expiresAt: Date = now.addingTimeInterval(60)) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord(codeHash: hash, clientID: client, userID: user.id, redirectURI: "https://app.example/cb", scope: "openid profile",
                            nonce: "n-1", codeChallenge: "challenge", authTime: now.addingTimeInterval(-5), amr: ["pwd", "otp"],
                            resources: ["https://api.example"], expiresAt: expiresAt)
}

/// A store with user alice and her first-party session "fam" whose first refresh token is "t1".
func storeWithSession(_ factory: any StoreFactory, firstTokenTTL: TimeInterval = 3600) async throws -> (any PortcullisStore, User) {
    let store = try await factory.makeStore()
    let user = makeUser()
    try await store.createUser(user)
    try await store.createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "openid", createdAt: now),
                                 firstToken: record("t1", ttl: firstTokenTTL))
    return (store, user)
}

/// Two replicas over one database with user alice and her first-party session "fam" whose first refresh token is "t1".
func replicasWithSession(_ factory: any StoreFactory) async throws -> ([any PortcullisStore], User) {
    let replicas = try await factory.makeReplicas(2)
    let user = makeUser()
    try await replicas[0].createUser(user)
    try await replicas[1].createFamily(TokenFamily(id: "fam", userID: user.id, clientID: nil, scope: "openid", createdAt: now),
                                       firstToken: record("t1"))
    return (replicas, user)
}

/// Two replicas over one database with user alice and client "app".
func replicasWithClient(_ factory: any StoreFactory) async throws -> ([any PortcullisStore], User) {
    let replicas = try await factory.makeReplicas(2)
    let user = makeUser()
    try await replicas[0].createUser(user)
    try await replicas[1].createClient(makeClient())
    return (replicas, user)
}

/// A store with user alice and client "app".
func storeWithClient(_ factory: any StoreFactory) async throws -> (any PortcullisStore, User) {
    let store = try await factory.makeStore()
    let user = makeUser()
    try await store.createUser(user)
    try await store.createClient(makeClient())
    return (store, user)
}

/// A passkey of `user` with every field set; `credential` names its credential id.
func makePasskey(_ id: String, user: User, credential: UInt8, createdAt: Date = now) -> Passkey {
    Passkey(id: id, userID: user.id, credentialID: [credential, 0x00, 0xff] + Array(repeating: credential, count: 29),
            publicKey: [0xa5, 0x01, 0x02, 0x03, 0x26, credential], algorithm: -7, signCount: 5, transports: ["internal", "hybrid"],
            backupEligible: true, backedUp: false, name: "Key \(id)", createdAt: createdAt,
            aaguid: Array(repeating: 0xad, count: 16), attestationFormat: "none")
}

/// Users alice and bob, created in `store`.
func createAliceAndBob(in store: any PortcullisStore) async throws -> (alice: User, bob: User) {
    let alice = makeUser()
    let bob = makeUser("bob")
    try await store.createUser(alice)
    try await store.createUser(bob)
    return (alice, bob)
}

extension RotationOutcome {
    var isRotation: Bool { if case .rotated = self { true } else { false } }
}

extension CodeRedemption {
    var isRedeemed: Bool { if case .redeemed = self { true } else { false } }
}

extension AttemptReservation {
    var isReserved: Bool { if case .reserved = self { true } else { false } }
}
