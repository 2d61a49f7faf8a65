/// The `aud` claim: one or more audiences (RFC 7519 section 4.1.3), written as a string when
/// there is one and as an array otherwise, read in either form.
public struct Audience: Codable, Sendable, Equatable {
    /// The audiences, in the order they were granted, without duplicates.
    public let values: [String]

    /// An audience of `values` (duplicates dropped, order kept).
    public init(_ values: [String]) {
        // Nearly every token has one audience: no set to build for it (each token check decodes one).
        guard values.count > 1 else {
            self.values = values
            return
        }
        var seen = Set<String>()
        self.values = values.filter { seen.insert($0).inserted }
    }

    /// True when `audience` is one of the values (exact, case-sensitive comparison as RFC 7519 asks).
    public func contains(_ audience: String) -> Bool {
        values.contains(audience)
    }

    /// The JSON text form: a string for one value, else an array.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            self.init([one])
        } else {
            self.init(try container.decode([String].self))
        }
    }

    /// Writes a string for one value, else an array.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if values.count == 1 { try container.encode(values[0]) } else { try container.encode(values) }
    }
}
