extension JWSHeader {
    /// Reads a protected header with `StrictJSONReader`, not Foundation (it is on every verify):
    /// a JSON object with a string `alg`; `kid` and `typ` strings when present (`null` counts as
    /// absent); no `crit`, whatever it holds; other members ignored.
    ///
    /// Stricter than the `JSONSerialization` it replaces: a duplicate member name, a byte order
    /// mark, UTF-16 and nesting deeper than `StrictJSONReader.maximumDepth` are refused.
    /// - Throws: `CryptoError.malformed`, with the messages `JWS.parse` has always used.
    package init(strictJSON bytes: [UInt8]) throws(CryptoError) {
        var alg: StrictJSONValue?, kid: StrictJSONValue?, typ: StrictJSONValue?
        var hasCrit = false
        let read = bytes.withUnsafeBytes { buffer in
            Result { () throws(StrictJSONError) in
                var reader = StrictJSONReader(buffer)
                try reader.readObject { key, reader throws(StrictJSONError) in
                    switch key {
                    case "alg": alg = try reader.readValue()
                    case "kid": kid = try reader.readValue()
                    case "typ": typ = try reader.readValue()
                    case "crit":
                        hasCrit = true
                        try reader.skipValue()
                    default: try reader.skipValue()
                    }
                }
            }
        }
        // The checks in the order JWS.parse made them, so each header gets the message it got before.
        guard case .success = read, case .string(let algorithm)? = alg else {
            throw .malformed("header is not a JSON object with alg")
        }
        guard !hasCrit else { throw .malformed("unsupported crit header") }
        let wrongType = { (_: StrictJSONKind) in CryptoError.malformed("header members have wrong types") }
        self.init(alg: algorithm, kid: try (kid ?? .null).optionalString(else: wrongType), typ: try (typ ?? .null).optionalString(else: wrongType))
    }
}
