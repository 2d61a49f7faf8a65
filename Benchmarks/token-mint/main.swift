// Mints distinct, live access tokens for the verify benchmark.
//
//   token-mint KEYS_DIR TEMPLATE_TOKEN COUNT [FIRST]
//
// Copies the claims of TEMPLATE_TOKEN (a token the server issued at login, so its user and
// session exist) and signs COUNT tokens that differ only in `jti` (numbered from FIRST, so
// several processes can mint one pool), with the server's current
// signing key from KEYS_DIR. Prints one token per line. Bench tooling only: it needs the
// private keys, exactly as the server does.
import Foundation
import PortcullisCore
import PortcullisCrypto

let arguments = CommandLine.arguments
guard (4...5).contains(arguments.count), let count = Int(arguments[3]), count > 0,
      let first = arguments.count == 5 ? Int(arguments[4]) : 0 else {
    FileHandle.standardError.write(Data("usage: token-mint KEYS_DIR TEMPLATE_TOKEN COUNT [FIRST]\n".utf8))
    exit(2)
}
let parts = arguments[2].split(separator: ".")
guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
      let template = try? JSONDecoder().decode(AccessTokenClaims.self, from: Data(payload)) else {
    FileHandle.standardError.write(Data("token-mint: the template is not an access token\n".utf8))
    exit(2)
}
let signer = AccessTokenSigner(keys: try KeyRingProvider(directory: KeyDirectory(path: arguments[1])), issuer: template.iss)
var output = ""
output.reserveCapacity(count * 400)
for index in first..<first + count {
    var claims = template
    claims.jti = "\(template.jti)-\(index)"
    output += try signer.sign(claims)
    output += "\n"
}
FileHandle.standardOutput.write(Data(output.utf8))
