import Foundation
import PortcullisCore
import PortcullisCrypto
import PortcullisPolicy
import PortcullisServer
import PortcullisWebAuthn

/// The bodies of the fuzz targets: each takes arbitrary bytes and must neither crash nor hang.
///
/// Shared by the libFuzzer executables (`make fuzz`) and by `FuzzCorpusTests`, which replays the
/// committed corpus and every crash input found so far on each `make test`.
public enum FuzzTargets {
    /// Fixed keys: one per algorithm, so verification runs its real code paths.
    static let keys: [SigningKey] = [JWSAlgorithm.es256, .edDSA, .rs256].map { try! SigningKey.generate($0) }

    /// JWS compact parsing and verification, JWK import, base64url and base32 decoding, and the
    /// strict decoders of a JWS header and of access-token claims, checked against Foundation's:
    /// what they accept, Foundation reads the same way (they are stricter, never more lenient).
    public static func jws(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? JWS.parse(text)
        if let header = try? JWSHeader(strictJSON: bytes) {
            do {
                let theirs = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
                precondition(theirs?["alg"] as? String == header.alg && theirs?["crit"] == nil, "header read differently")
                precondition(theirs?["kid"] as? String == header.kid && theirs?["typ"] as? String == header.typ, "kid or typ read differently")
            } catch {
                precondition(isNumberRangeRefusal(error), "JSONSerialization refused an accepted header: \(error)")
            }
        }
        if let claims = try? AccessTokenClaims(strictJSON: bytes) {
            do {
                let theirs = try JSONDecoder().decode(AccessTokenClaims.self, from: Data(bytes))
                precondition(theirs == claims, "claims read differently")
            } catch {
                precondition((try? JSONSerialization.jsonObject(with: Data(bytes))) == nil, "JSONDecoder refused accepted claims: \(error)")
            }
        }
        for key in keys {
            _ = try? JWS.verify(text) { _ in key }
        }
        if let jwk = try? JSONDecoder().decode(JWK.self, from: Data(bytes)) {
            _ = try? SigningKey(jwk: jwk)
        }
        _ = Base64URL.decode(text)
        _ = Base32.decode(text)
    }

    /// Whether `JSONSerialization` refused only a number beyond a `Double` (`1e400`): RFC 8259 lets
    /// a parser refuse those, and the strict reader accepts them where it reads no number.
    static func isNumberRangeRefusal(_ error: any Error) -> Bool {
        ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "").contains("is not representable")
    }

    /// Policy files: the first byte picks YAML or CSV; a policy that compiles answers a question
    /// built from the input.
    public static func policy(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        let name = first % 2 == 0 ? "fuzz.yaml" : "fuzz.csv"
        guard let policy = try? Policy.compile([PolicySource(name: name, contents: text)]) else { return }
        let words = text.split(whereSeparator: { $0 == "\n" || $0 == " " || $0 == "," }).map(String.init)
        let decision = policy.decide(subject: words.first ?? "", grantedRoles: policy.roleNames,
                                     action: words.last ?? "", resource: words.dropFirst().first ?? "")
        _ = decision.reason
        _ = decision.roles
        for role in policy.roleNames { _ = policy.rules(of: role, inherited: true) }
    }

    /// Request decoding: form bodies and query strings (the page and token-endpoint parsers), the
    /// JSON shapes of the REST API, the bearer header and the request-id filter. Reached through
    /// the server's `package` symbols: nothing in the production module exists for the fuzzers.
    public static func request(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let form = try? FormParameters(parsing: text) {
            _ = PageFlow.canonicalQuery(form)
            _ = try? OAuthController.tokenRequest(form)
        }
        // A form body is parsed from its bytes: the same parameters as the text when the bytes
        // are UTF-8, refused when they are not.
        let body = bytes.withUnsafeBufferPointer { try? FormParameters(parsing: $0) }
        if String(validating: bytes, as: UTF8.self) != nil {
            precondition(body?.values == (try? FormParameters(parsing: text))?.values, "form body and text disagree")
        } else {
            precondition(body == nil, "a form body that is not UTF-8 was accepted")
        }
        // A dotted quad's throttle key is the address as given only when that is its one spelling.
        if let address = IPAddress(text), address.isIPv4 {
            precondition(AddressThrottle.key(for: text) == address.description, "a dotted quad's key is not its one spelling")
        }
        let decoder = JSONDecoder()
        let data = Data(bytes)
        _ = try? decoder.decode(AuthController.LoginRequest.self, from: data)
        _ = try? decoder.decode(AuthController.RefreshRequest.self, from: data)
        _ = try? decoder.decode(MFAController.CodeRequest.self, from: data)
        _ = try? BearerTokenMiddleware.token(in: text)
        _ = RequestIdentifier.acceptable(text.utf8)
        _ = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    /// The strict JSON reader of the hot routes' bodies, checked against Foundation's parser: what
    /// it accepts, `JSONSerialization` must read with the same members and strings (the sound
    /// direction and its one exception are explained in `StrictJSONObjectDifferentialTests`). The
    /// first byte sometimes picks a small size bound, so the size check is reached too.
    public static func json(_ bytes: [UInt8]) {
        let maximumBytes = bytes.first.map { $0 < 8 ? Int($0) * 16 : StrictJSONObject.defaultMaximumBytes } ?? 0
        guard let object = try? StrictJSONObject(parsing: bytes, maximumBytes: maximumBytes) else { return }
        for key in ["token", "audience", "subject", "action", "resource", ""] {
            _ = try? object.string(key)
            _ = try? object.requiredString(key)
            _ = object.contains(key)
        }
        let theirs: Any
        do { theirs = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            precondition(isNumberRangeRefusal(error), "JSONSerialization refused an accepted body: \(error)")
            return
        }
        guard let theirs = theirs as? [String: Any] else { preconditionFailure("JSONSerialization read no object") }
        // Fewer members: it merged names that are canonically equivalent (`K` and U+212A), which we keep apart.
        guard theirs.count == object.count else {
            precondition(theirs.count < object.count, "JSONSerialization read more members")
            return
        }
        for (key, value) in theirs {
            precondition(object.contains(key), "member \(key) missing")
            let string: String?, stringOrNull: Bool
            do { (string, stringOrNull) = (try object.string(key), true) } catch { (string, stringOrNull) = (nil, false) }
            switch value {
            case let text as String: precondition(string.map { $0.utf8.elementsEqual(text.utf8) } == true, "member \(key) differs")
            case is NSNull: precondition(stringOrNull && string == nil, "member \(key) is not null")
            default: precondition(!stringOrNull, "member \(key) is a string")
            }
        }
    }

    /// The WebAuthn parsers over untrusted bytes: CBOR (whole and prefix), COSE keys, authenticator
    /// data, attestation objects (with their statement checked as registration would), and
    /// clientDataJSON. Whatever parses is checked for consistency with its bytes.
    public static func webauthn(_ bytes: [UInt8]) {
        if let value = try? CBORDecoder.decode(bytes) {
            precondition((try? CBORDecoder.decodePrefix(bytes[...]))?.length == bytes.count, "whole and prefix decode disagree")
            _ = value.mapEntries?.count
        }
        if let (_, length) = try? CBORDecoder.decodePrefix(bytes[...]) { precondition(length > 0 && length <= bytes.count, "prefix length \(length)") }
        if let key = try? COSEKey(bytes: bytes) {
            precondition(key.bytes == bytes, "COSE key bytes changed")
            _ = key.verify(signature: Array(bytes.prefix(72)), message: bytes)
        }
        if let data = try? AuthenticatorData(bytes: bytes) {
            precondition(data.bytes == bytes && data.rpIDHash.count == 32, "authenticator data parts")
            if let attested = data.attestedCredentialData {
                precondition((1...AttestedCredentialData.maximumCredentialIDLength).contains(attested.credentialID.count), "credential id length")
                precondition(try! COSEKey(bytes: attested.publicKey.bytes).algorithm == attested.publicKey.algorithm, "COSE key does not parse again")
            }
            // As an assertion's data: the flag checks and the signature (the input's last 64 bytes) run.
            let clientData = Array(#"{"type":"webauthn.get","challenge":"AA","origin":"https://example.org"}"#.utf8)
            let credential = PublicKeyCredentialJSON(
                id: "AA", rawId: "AA",
                response: .init(clientDataJSON: Base64URL.encode(clientData), authenticatorData: Base64URL.encode(bytes),
                                signature: Base64URL.encode(bytes.suffix(64))))
            let verified = try? fuzzRelyingParty.verifyAuthentication(credential, expectedChallenge: [0], credentialPublicKey: fuzzEd25519Key,
                                                                      storedSignCount: 0, requireUserVerification: false)
            precondition(verified == nil, "an assertion verified without the private key")
        }
        if let object = try? AttestationObject(bytes: bytes), let attested = object.authenticatorData.attestedCredentialData {
            let clientData = Array(#"{"type":"webauthn.create","challenge":"AA","origin":"https://example.org"}"#.utf8)
            let credential = PublicKeyCredentialJSON(
                id: Base64URL.encode(attested.credentialID), rawId: Base64URL.encode(attested.credentialID),
                response: .init(clientDataJSON: Base64URL.encode(clientData), attestationObject: Base64URL.encode(bytes)))
            _ = try? fuzzRelyingParty.verifyRegistration(credential, expectedChallenge: [0], requireUserVerification: false)
        }
        _ = try? CollectedClientData(bytes: bytes)
        _ = try? JSONDecoder().decode(PublicKeyCredentialJSON.self, from: Data(bytes))
    }

    static let fuzzRelyingParty = WebAuthnRelyingParty(id: "example.org", origins: ["https://example.org"])
    /// The W3C test vectors' Ed25519 credential key (section 16, packed EdDSA) as COSE.
    static let fuzzEd25519Key: [UInt8] = Hex.decode("a401010327200621582044e06ddd331c36a8dc667bab52bcae63486c916aa5e339e6acebaa84934bf832")!

    /// Runs `body` over a file, or over every file of a directory.
    public static func replay(_ path: String, _ body: ([UInt8]) -> Void) throws -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return 0 }
        let files = isDirectory.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 }
            : [path]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            body([UInt8](data))
        }
        return files.count
    }
}
