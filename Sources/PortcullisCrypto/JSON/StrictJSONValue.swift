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
