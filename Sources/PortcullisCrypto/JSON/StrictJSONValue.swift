/// What a value that is neither a string nor `null` holds, for the error that names it.
package enum StrictJSONKind: Sendable, Equatable {
    /// A number.
    case number
    /// `true` or `false`.
    case boolean
    /// An array.
    case array
    /// An object.
    case object

    var withArticle: String {
        switch self {
        case .number: "a number"
        case .boolean: "a boolean"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A member's value as `StrictJSONReader.readValue()` reads it: strings decoded, anything else
/// validated and remembered only by its kind.
package enum StrictJSONValue: Sendable, Equatable {
    /// A string, escapes decoded.
    case string(String)
    /// `null`.
    case null
    /// A number, boolean, array or object.
    case other(StrictJSONKind)
}

extension StrictJSONValue {
    /// The string, nil for `null` or any other value.
    package var string: String? {
        if case .string(let text) = self { text } else { nil }
    }

    /// A member that must be a string when present: its text, nil for `null` (which counts as
    /// absent), and `failure`'s error, given the kind found, for anything else.
    @inlinable
    package func optionalString<Failure: Error>(else failure: (StrictJSONKind) -> Failure) throws(Failure) -> String? {
        switch self {
        case .string(let text): text
        case .null: nil
        case .other(let kind): throw failure(kind)
        }
    }
}
