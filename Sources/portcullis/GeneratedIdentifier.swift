import ArgumentParser

/// A generated id given as an argument: a client id, a passkey id, a key id.
///
/// Generated ids are base64url, so about one in 32 starts with "-", and ArgumentParser takes a
/// lone argument like that for an option ("Missing expected argument"). Commands that take one
/// declare `@Argument(parsing: .allUnrecognized)` and read it through `one(of:)`, so an id
/// copied from a listing works as it is (a `--` before it still works too).
enum GeneratedIdentifier {
    /// The one id among what the argument captured; a usage error for none or several.
    static func one(of captured: [String], named name: String) throws -> String {
        let values = captured.first == "--" ? Array(captured.dropFirst()) : captured
        guard values.count == 1, let id = values.first, !id.isEmpty else {
            throw Refusal(description: "expected one <\(name)>, got \(values.count): " + values.map(TerminalText.escape).joined(separator: " "))
        }
        return id
    }

    /// Printed as one line, like the other command errors.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }
}
