import Foundation
import PortcullisCore
import PortcullisCrypto
import Testing

func temporaryDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-core-\(UUID().uuidString)").path
}

@Suite struct KeyDirectoryTests {
    @Test func firstPrepareCreatesASigningKeyAnRS256IDTokenKeyAndSecretsKeyWithMode0600() throws {
        let directory = KeyDirectory(path: temporaryDirectory())
        let created = try directory.prepare(signingAlgorithm: .es256)
        #expect(created.count == 3)
        let keys = try directory.list()
        #expect(keys.map(\.alg) == [.es256, .rs256])
        #expect(try directory.signingKID() == keys[0].kid, "the RS256 key is for ID tokens, not the signing key")
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let mode = try FileManager.default.attributesOfItem(atPath: directory.path + "/" + file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
        #expect(try directory.secretsKey().count == 32)
        #expect(try directory.prepare(signingAlgorithm: .es256).isEmpty, "a second start creates nothing")
    }

    @Test func rotationKeepsOldKeysVerifyingUntilRetired() throws {
        let directory = KeyDirectory(path: temporaryDirectory())
        try directory.prepare(signingAlgorithm: .es256)
        let first = try directory.list()[0].kid
        let rsa = try directory.list()[1].kid
        let second = try directory.rotate(.edDSA)
        let ring = try directory.load()
        #expect(ring.signingKID == second.kid)
        #expect(ring.signingKey.algorithm == .edDSA)
        #expect(ring.key(kid: first) != nil)
        #expect(try ring.jwks().keys.compactMap(\.kid) == [first, rsa, second.kid])

        #expect(throws: PortcullisError.self) { try directory.retire(kid: second.kid) }
        try directory.retire(kid: first)
        let after = try directory.load()
        #expect(after.key(kid: first) == nil)
        #expect(try after.jwks().keys.compactMap(\.kid) == [rsa, second.kid])
        #expect(throws: PortcullisError.self) { try directory.retire(kid: first) }
        #expect(throws: PortcullisError.self) { try directory.retire(kid: "no-such-kid") }

        try directory.retire(kid: rsa)
        let live = try directory.load().metadata.filter { $0.retiredAt == nil }
        #expect(live.map(\.alg) == [.edDSA, .rs256], "retiring the last RS256 key replaces it")
        #expect(!live.map(\.kid).contains(rsa))
    }

    @Test func providerSeesARotationMadeByAnotherProcess() throws {
        let directory = KeyDirectory(path: temporaryDirectory())
        try directory.prepare(signingAlgorithm: .es256)
        let provider = try KeyRingProvider(directory: directory)
        let before = provider.current().signingKID
        // Another process (the CLI) rotates through its own KeyDirectory value.
        let rotated = try KeyDirectory(path: directory.path).rotate(.rs256)
        #expect(provider.current().signingKID == rotated.kid)
        #expect(provider.current().key(kid: before) != nil)
    }

    @Test func jwksHasNoPrivateMembers() throws {
        let directory = KeyDirectory(path: temporaryDirectory())
        try directory.prepare(signingAlgorithm: .es256)
        _ = try directory.rotate(.rs256)
        _ = try directory.rotate(.edDSA)
        for jwk in try directory.load().jwks().keys {
            #expect(jwk.d == nil && jwk.p == nil && jwk.q == nil && jwk.dp == nil && jwk.dq == nil && jwk.qi == nil)
            #expect(jwk.use == "sig")
            #expect(jwk.alg != nil)
        }
    }
}

@Suite struct AccessTokenSignerTests {
    let directory: KeyDirectory
    let signer: AccessTokenSigner
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        directory = KeyDirectory(path: temporaryDirectory())
        try directory.prepare(signingAlgorithm: .es256)
        signer = AccessTokenSigner(keys: try KeyRingProvider(directory: directory), issuer: "https://id.example")
    }

    func claims(iss: String = "https://id.example", exp: Int64 = 1_800_000_900, nbf: Int64 = 1_800_000_000) -> AccessTokenClaims {
        AccessTokenClaims(iss: iss, sub: "u1", aud: Audience(["https://id.example"]), exp: exp, iat: nbf, nbf: nbf, jti: "j", username: "alice", roles: ["r"], scope: "openid", sid: "s")
    }

    @Test func signedTokenVerifiesWithItsClaims() throws {
        let token = try signer.sign(claims())
        #expect(try signer.verify(token, now: now) == claims())
        let header = try JWS.parse(token).header
        #expect(header.typ == "at+jwt")
        #expect(header.kid == (try directory.signingKID()))
    }

    @Test func expiryAllowsSixtySecondsOfLeewayAndNoMore() throws {
        let token = try signer.sign(claims(exp: 1_800_000_000))
        #expect(throws: Never.self) { try signer.verify(token, now: now.addingTimeInterval(59)) }
        #expect(throws: PortcullisError.invalidToken("expired")) { try signer.verify(token, now: now.addingTimeInterval(60)) }
    }

    @Test func futureTokensAreNotYetValid() throws {
        let token = try signer.sign(claims(exp: 1_800_010_000, nbf: 1_800_001_000))
        #expect(throws: PortcullisError.invalidToken("not yet valid")) { try signer.verify(token, now: now) }
    }

    @Test func foreignIssuerIsRejected() throws {
        let token = try signer.sign(claims(iss: "https://evil.example"))
        #expect(throws: PortcullisError.invalidToken("wrong issuer")) { try signer.verify(token, now: now) }
    }

    @Test func tokenWithoutAccessTokenTypeIsRejected() throws {
        let ring = try directory.load()
        let payload = Array(try JSONEncoder().encode(claims()))
        let idToken = try JWS.sign(payload: payload, header: JWSHeader(alg: "ES256", kid: ring.signingKID, typ: "JWT"), key: ring.signingKey)
        #expect(throws: PortcullisError.invalidToken("not an access token")) { try signer.verify(idToken, now: now) }
    }

    @Test func tokenOfARetiredKeyIsRejected() throws {
        let token = try signer.sign(claims())
        let old = try directory.signingKID()!
        _ = try directory.rotate(.es256)
        #expect(throws: Never.self) { try signer.verify(token, now: now) }
        try directory.retire(kid: old)
        #expect(throws: PortcullisError.self) { try signer.verify(token, now: now) }
    }
}

@Suite struct VerifiedTokenCacheTests {
    let directory: KeyDirectory
    let signer: AccessTokenSigner
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        directory = KeyDirectory(path: temporaryDirectory())
        try directory.prepare(signingAlgorithm: .es256)
        signer = AccessTokenSigner(keys: try KeyRingProvider(directory: directory), issuer: "https://id.example", cacheSize: 8)
    }

    func claims(jti: String = "j", exp: Int64 = 1_800_000_900) -> AccessTokenClaims {
        AccessTokenClaims(iss: "https://id.example", sub: "u1", aud: Audience(["https://id.example"]), exp: exp, iat: 1_800_000_000, nbf: 1_800_000_000, jti: jti, username: "alice", roles: ["r"], scope: "openid", sid: "s")
    }

    @Test func aRepeatedTokenIsAnsweredFromTheCacheWithTheSameClaims() throws {
        let token = try signer.sign(claims())
        for _ in 0..<4 { #expect(try signer.verify(token, now: now) == claims()) }
        #expect(signer.cache?.count == 1)
        #expect(signer.cache?.hits == 2, "stored at its second check, answered from the cache at the third and fourth")
    }

    /// A token is stored at its second check: one checked once is not, so a run of new tokens
    /// does not push out the tokens that are checked again and again.
    @Test func aTokenCheckedOnceIsNotStoredAndDoesNotPushOutRepeatedOnes() throws {
        let repeated = try signer.sign(claims(jti: "repeated"))
        _ = try signer.verify(repeated, now: now)
        #expect(signer.cache?.count == 0, "checked once: only marked")
        _ = try signer.verify(repeated, now: now)
        #expect(signer.cache?.count == 1)
        for index in 0..<40 { _ = try signer.verify(try signer.sign(claims(jti: "once-\(index)")), now: now) }
        #expect(signer.cache?.count == 1, "forty tokens checked once, none stored")
        #expect(try signer.verify(repeated, now: now).jti == "repeated")
        #expect(signer.cache?.hits == 1, "the repeated token is still there")
    }

    /// Checks `token` twice, so the cache stores it.
    func verifyUntilStored(_ token: String) throws {
        _ = try signer.verify(token, now: now)
        _ = try signer.verify(token, now: now)
    }

    @Test func aCachedTokenIsRejectedOnceItExpires() throws {
        let token = try signer.sign(claims(exp: 1_800_000_010))
        try verifyUntilStored(token)
        #expect(try signer.verify(token, now: now.addingTimeInterval(69)).jti == "j")
        #expect(signer.cache?.hits == 1)
        #expect(throws: PortcullisError.invalidToken("expired")) { try signer.verify(token, now: now.addingTimeInterval(70)) }
        #expect(signer.cache?.count == 0)
    }

    @Test func aCachedTokenIsRejectedOnceItsKeyIsRetired() throws {
        let token = try signer.sign(claims())
        try verifyUntilStored(token)
        let old = try #require(try directory.signingKID())
        _ = try directory.rotate(.es256)
        #expect(try signer.verify(token, now: now).jti == "j")
        #expect(signer.cache?.hits == 1)
        // The manifest's mtime may not change within one clock tick; make the change visible.
        Thread.sleep(forTimeInterval: 0.01)
        try directory.retire(kid: old)
        #expect(throws: PortcullisError.self) { try signer.verify(token, now: now) }
    }

    @Test func tamperedAndForeignTokensAreNeverServedFromTheCache() throws {
        let token = try signer.sign(claims())
        try verifyUntilStored(token)
        var parts = token.split(separator: ".").map(String.init)
        parts[2] = String(parts[2].reversed())
        let tampered = parts.joined(separator: ".")
        let otherDirectory = KeyDirectory(path: temporaryDirectory())
        try otherDirectory.prepare(signingAlgorithm: .es256)
        let foreign = try AccessTokenSigner(keys: KeyRingProvider(directory: otherDirectory), issuer: "https://id.example").sign(claims())
        for _ in 0..<2 {
            #expect(throws: PortcullisError.self) { try signer.verify(tampered, now: now) }
            #expect(throws: PortcullisError.self) { try signer.verify(foreign, now: now) }
        }
        #expect(signer.cache?.count == 1)
        #expect(signer.cache?.hits == 0)
    }

    @Test func theCacheHoldsNoMoreThanItsCapacity() throws {
        let tokens = try (0..<40).map { try signer.sign(claims(jti: "j\($0)")) }
        for token in tokens { try verifyUntilStored(token) }
        #expect(signer.cache?.count ?? 0 <= 8)
        #expect(signer.cache?.count ?? 0 >= 4)
        // The newest tokens are the ones kept.
        let hitsBefore = signer.cache?.hits ?? 0
        _ = try signer.verify(tokens[39], now: now)
        #expect(signer.cache?.hits == hitsBefore + 1)
        _ = try signer.verify(tokens[0], now: now)
        #expect(signer.cache?.hits == hitsBefore + 1)
    }
}
