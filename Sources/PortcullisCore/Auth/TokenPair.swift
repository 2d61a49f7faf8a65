/// What a successful login or refresh returns.
public struct TokenPair: Sendable, Equatable {
    /// Signed access-token JWT.
    public var accessToken: String
    /// Access-token lifetime in seconds.
    public var expiresIn: Int
    /// Opaque refresh token (stored only as a hash).
    public var refreshToken: String
    /// Granted scope.
    public var scope: String
}

/// The `/v1/token/verify` verdict on a token.
public enum TokenVerdict: Sendable, Equatable {
    /// Valid and live (and of the asked-for audience, if one was given).
    case active(AccessTokenClaims)
    /// Live, but its `aud` lacks the asked-for audience: inactive for that caller, with the reason.
    case otherAudience(AccessTokenClaims, reason: String)
    /// Anything else, garbage included.
    case inactive
}

/// The answer to a password login: tokens, or a request for the second factor.
public enum LoginOutcome: Sendable, Equatable {
    /// No second factor enrolled: the session started.
    case tokens(TokenPair)
    /// TOTP is active: present `mfaToken` with a code to `/v1/login/mfa` within five minutes.
    case mfaRequired(mfaToken: String, methods: [String])
}
