import Foundation
import PortcullisCore
import PortcullisCrypto
import PortcullisPolicy
import PortcullisServer

/// The bodies of the fuzz targets: each takes arbitrary bytes and must neither crash nor hang.
///
/// Shared by the libFuzzer executables (`make fuzz`) and by `FuzzCorpusTests`, which replays the
/// committed corpus and every crash input found so far on each `make test`.
public enum FuzzTargets {
    /// Fixed keys: one per algorithm, so verification runs its real code paths.
    static let keys: [SigningKey] = [JWSAlgorithm.es256, .edDSA, .rs256].map { try! SigningKey.generate($0) }

    /// JWS compact parsing and verification, JWK import, base64url and base32 decoding.
    public static func jws(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? JWS.parse(text)
        for key in keys {
            _ = try? JWS.verify(text) { _ in key }
        }
        if let jwk = try? JSONDecoder().decode(JWK.self, from: Data(bytes)) {
            _ = try? SigningKey(jwk: jwk)
        }
        _ = Base64URL.decode(text)
        _ = Base32.decode(text)
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
        let decoder = JSONDecoder()
        let data = Data(bytes)
        _ = try? decoder.decode(AuthController.LoginRequest.self, from: data)
        _ = try? decoder.decode(AuthController.RefreshRequest.self, from: data)
        _ = try? decoder.decode(MFAController.CodeRequest.self, from: data)
        _ = try? BearerTokenMiddleware.token(in: text)
        _ = RequestIdentifier.acceptable(text.utf8)
        _ = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

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
