/// A line of human output for the operator's terminal: the literal text as written, every
/// interpolated value escaped by `TerminalText.escape`.
///
/// Usernames, client names, audit details and logged resources are chosen by whoever calls the
/// server; printed raw, an ESC sequence could clear or rewrite the screen and a CR or LF could
/// forge an audit line. Interpolating through this type makes escaping the default, not a
/// call each site has to remember:
///
/// ```swift
/// show("username: \(user.username)")   // "username: eve\x1b[2J\n" stays on one line
/// ```
/// JSON output (`--json`) does not come through here: JSONEncoder escapes control characters itself.
struct TerminalText: ExpressibleByStringInterpolation {
    /// The text to print.
    let text: String

    init(stringLiteral literal: String) {
        text = literal
    }

    init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
    }

    /// Literal segments kept, interpolated values escaped.
    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        mutating func appendInterpolation(_ value: some CustomStringConvertible) {
            text += TerminalText.escape(value.description)
        }
    }

    /// `text` with every C0 control character, DEL and C1 control character (U+0080–U+009F)
    /// replaced by a visible escape, and `\` doubled so an escape cannot be faked.
    ///
    /// `\n`, `\r` and `\t` keep their usual names; any other is `\xNN`, NN being the code point
    /// in hex (`\x1b` for ESC, `\x9b` for the one-character CSI). Everything else, including
    /// non-ASCII letters, is left as it is.
    static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where needsEscape(scalar):
                let hex = String(scalar.value, radix: 16)
                result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\\"
    }
}

/// Prints one line (or several, when the literal has newlines) of human output, values escaped.
func show(_ line: TerminalText) {
    print(line.text)
}

/// Prints fields on one line, joined by `separator` (a tab or a space, not escaped).
func show(_ fields: [TerminalText], separator: String) {
    print(fields.map(\.text).joined(separator: separator))
}
