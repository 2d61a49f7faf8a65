public import Foundation
import PortcullisCrypto

/// Signs and checks access-token JWTs with the current key ring.
///
/// Checking pins the algorithm to the key named by `kid` and requires `typ: at+jwt`
/// (RFC 8725 explicit typing, so an ID token is never taken for an access token).
public struct AccessTokenSigner: Sendable {
    /// The `typ` header of every access token (RFC 9068).
    public static let tokenType = "at+jwt"
    /// Clock skew tolerated on `exp`, `nbf` and `iat` (RFC 7519 section 4.1.4; docs/TOKENS.md, "Access tokens").
    public static let leeway: Int64 = 60

    let keys: any KeyRingSource
    let issuer: String
    /// Tokens verified before; nil when caching is off.
    public let cache: VerifiedTokenCache?

    /// A signer over `keys` for tokens of `issuer`, remembering up to `cacheSize` verified tokens.
    public init(keys: any KeyRingSource, issuer: String, cacheSize: Int = 0) {
        self.keys = keys
        self.issuer = issuer
        self.cache = cacheSize > 0 ? VerifiedTokenCache(capacity: cacheSize) : nil
    }

    /// Signs `claims` with the current signing key.
    public func sign(_ claims: AccessTokenClaims) throws -> String {
        let ring = keys.current()
        let header = JWSHeader(alg: ring.signingKey.algorithm.rawValue, kid: ring.signingKID, typ: Self.tokenType)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try JWS.sign(payload: Array(try encoder.encode(claims)), header: header, key: ring.signingKey)
    }

    /// Verifies signature, type, issuer and times; throws `invalidToken` with the reason.
    ///
    /// Revocation is not checked here: `AuthService.introspect` adds it.
    public func verify(_ token: String, now: Date) throws -> AccessTokenClaims {
        let ring = keys.current()
        let seconds = Int64(now.timeIntervalSince1970)
        let digest = cache.map { _ in VerifiedTokenCache.Digest(token) }
        if let cache, let digest, let claims = cache.claims(for: digest, now: seconds, isKeyLive: { ring.key(kid: $0) != nil }) {
            return claims
        }
        let payload: [UInt8]
        let parsed: JWS.Parsed
        do {
            parsed = try JWS.parse(token)
            payload = try JWS.verify(parsed) { header in header.kid.flatMap { ring.key(kid: $0) } }
        } catch let error as CryptoError {
            throw PortcullisError.invalidToken("token rejected: \(error)")
        }
        guard parsed.header.typ?.lowercased() == Self.tokenType else {
            throw PortcullisError.invalidToken("not an access token")
        }
        let claims = try AccessTokenClaims(strictJSON: payload)
        guard claims.iss == issuer else { throw PortcullisError.invalidToken("wrong issuer") }
        guard claims.exp + Self.leeway > seconds else { throw PortcullisError.invalidToken("expired") }
        guard Self.isInTimeWindow(claims, now: seconds) else { throw PortcullisError.invalidToken("not yet valid") }
        if let cache, let digest, let kid = parsed.header.kid {
            cache.insert(claims, kid: kid, for: digest)
        }
        return claims
    }

    /// True when `token` is a JWS whose `kid` the current ring lacks (a key another replica may
    /// have just published): worth one reload before calling it invalid.
    public func namesUnknownKey(_ token: String) -> Bool {
        guard let kid = try? JWS.parse(token).header.kid else { return false }
        return keys.current().key(kid: kid) == nil
    }

    /// True when `now` (seconds since 1970) is within the token's `nbf`/`iat`..`exp` window, with leeway.
    static func isInTimeWindow(_ claims: AccessTokenClaims, now: Int64) -> Bool {
        claims.exp + leeway > now && claims.nbf - leeway <= now && claims.iat - leeway <= now
    }
}
