/// The readers of one member's value, for `readObject`'s `readMember`: each validates the whole
/// value, whatever it holds, and moves past it. A value of another type than asked is not an error
/// here (nil): whoever reads a member knows whether that makes the input unusable.
extension StrictJSONReader {
    /// The value as the server's bodies keep it: a decoded string, `null`, or the kind of anything else.
    package mutating func readValue() throws(StrictJSONError) -> StrictJSONValue {
        if try peek() == Self.quote { return .string(try readString(decoding: true)) }
        return try skipValue(depth: 1).map(StrictJSONValue.other) ?? .null
    }

    /// Validates the value without keeping anything of it (no string is decoded).
    package mutating func skipValue() throws(StrictJSONError) {
        try skipValue(depth: 1)
    }

    /// A JSON integer, `-?(0|[1-9][0-9]*)`, within `Int64`: nil for any other value, a number
    /// with a fraction or an exponent (`1.0`, `1e3`) or out of range included.
    package mutating func readInt64() throws(StrictJSONError) -> Int64? {
        let start = offset
        let first = try peek()
        guard first == Self.minus || isDigit(first) else {
            try skipValue(depth: 1)
            return nil
        }
        try skipNumber()
        var index = first == Self.minus ? start + 1 : start
        // Accumulated as a negative number, whose range reaches Int64.min.
        var negative: Int64 = 0
        while index < offset, isDigit(bytes[index]) {
            let (shifted, overflowed) = negative.multipliedReportingOverflow(by: 10)
            let (sum, underflowed) = shifted.subtractingReportingOverflow(Int64(bytes[index] &- Self.zero))
            guard !overflowed, !underflowed else { return nil }
            negative = sum
            index += 1
        }
        guard index == offset else { return nil }
        if first == Self.minus { return negative }
        return negative == .min ? nil : -negative
    }

    /// An array of strings, each decoded; with `acceptingOne`, a lone string too, as an array of
    /// one. Nil for any other value, an array holding anything but strings included.
    package mutating func readStrings(acceptingOne: Bool = false) throws(StrictJSONError) -> [String]? {
        switch try peek() {
        case Self.quote:
            let one = try readString(decoding: acceptingOne)
            return acceptingOne ? [one] : nil
        case Self.openBracket:
            offset += 1
            skipWhitespace()
            var strings: [String] = []
            if try peek() == Self.closeBracket {
                offset += 1
                return strings
            }
            var onlyStrings = true
            repeat {
                if onlyStrings, try peek() == Self.quote {
                    strings.append(try readString(decoding: true))
                } else {
                    onlyStrings = false
                    // The elements of an array at level 2 (the outer object is level 1).
                    try skipValue(depth: 2)
                }
            } while try endOfMember(closing: Self.closeBracket)
            return onlyStrings ? strings : nil
        default:
            try skipValue(depth: 1)
            return nil
        }
    }
}
