/// The `acr` values of ID tokens, read off a sign-in's RFC 8176 `amr`.
public enum AuthenticationContext {
    /// A password alone.
    public static let password = "urn:portcullis:acr:pwd"
    /// A password and a TOTP or recovery code.
    public static let multiFactor = "urn:portcullis:acr:mfa"
    /// A passkey (with or without the password): phishing-resistant, the value the OpenID
    /// Extended Authentication Profile registers (`phr`). A client may require it with `acr_values=phr`.
    public static let phishingResistant = "phr"

    /// Every value, weakest first (`acr_values_supported`).
    public static let all = [password, multiFactor, phishingResistant]

    /// The context a sign-in with these methods reached: `pop` (a passkey) is phishing-resistant.
    public static func acr(amr: [String]) -> String {
        if amr.contains("pop") { return phishingResistant }
        return amr.contains("otp") ? multiFactor : password
    }
}
