import PortcullisCrypto

extension AccessTokenClaims {
    /// Reads a verified token's payload with `StrictJSONReader` instead of `JSONDecoder`: on every
    /// check of a token not seen before, Foundation's decoder cost more than the rest of the parse.
    ///
    /// Takes what the `Codable` conformance takes from the tokens we mint: `iss`, `sub`, `jti` and
    /// `scope` strings; `exp`, `iat` and `nbf` integers; `aud` a string or an array of strings
    /// (`Audience`); `roles` an array of strings; `username`, `sid` and `client_id` strings or
    /// absent (`null` counts as absent). Unknown members are ignored, as `JSONDecoder` ignores them.
    ///
    /// Stricter than `JSONDecoder`, on purpose (these are our own signed tokens): a duplicate
    /// member name, a byte order mark, UTF-16, nesting deeper than `StrictJSONReader.maximumDepth`
    /// or more than `StrictJSONReader.maximumMembers` members are refused, and so is an integer
    /// claim written with a fraction or an exponent (`1.0`, `1e3`, `-0.0`), which `JSONDecoder`
    /// takes when the value is whole. `-0` is 0, as the grammar allows.
    /// - Throws: `PortcullisError.invalidToken("malformed claims")` for anything else.
    package init(strictJSON payload: [UInt8]) throws(PortcullisError) {
        var iss: String?, sub: String?, jti: String?, scope: String?
        var exp: Int64?, iat: Int64?, nbf: Int64?
        var aud: [String]?, roles: [String]?
        var username: StrictJSONValue = .null, sid: StrictJSONValue = .null, clientID: StrictJSONValue = .null
        let read = payload.withUnsafeBytes { buffer in
            Result { () throws(StrictJSONError) in
                var reader = StrictJSONReader(buffer)
                try reader.readObject { key, reader throws(StrictJSONError) in
                    switch key {
                    case "iss": iss = try reader.readValue().string
                    case "sub": sub = try reader.readValue().string
                    case "jti": jti = try reader.readValue().string
                    case "scope": scope = try reader.readValue().string
                    case "exp": exp = try reader.readInt64()
                    case "iat": iat = try reader.readInt64()
                    case "nbf": nbf = try reader.readInt64()
                    case "aud": aud = try reader.readStrings(acceptingOne: true)
                    case "roles": roles = try reader.readStrings()
                    case "username": username = try reader.readValue()
                    case "sid": sid = try reader.readValue()
                    case "client_id": clientID = try reader.readValue()
                    default: try reader.skipValue()
                    }
                }
            }
        }
        let malformed = PortcullisError.invalidToken("malformed claims")
        guard case .success = read, let iss, let sub, let jti, let scope, let exp, let iat, let nbf, let aud, let roles else {
            throw malformed
        }
        func optional(_ value: StrictJSONValue) throws(PortcullisError) -> String? {
            try value.optionalString { _ in malformed }
        }
        self.init(iss: iss, sub: sub, aud: Audience(aud), exp: exp, iat: iat, nbf: nbf, jti: jti,
                  username: try optional(username), roles: roles, scope: scope, sid: try optional(sid),
                  clientID: try optional(clientID))
    }
}
