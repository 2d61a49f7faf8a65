/// Where Portcullis keeps its data: `PORTCULLIS_DB` (and `--db`), docs/CONFIGURATION.md.
///
/// Accepted forms: a file path or `sqlite:PATH` (a SQLite file, created on first use), and
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]` (or
/// `postgresql://…`). User, password and database name are percent-decoded; an IPv6 host is
/// written in brackets (`[::1]`). The password never appears in `description` nor in an error.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// A SQLite database file.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// The name used in every parse error.
    static let setting = "PORTCULLIS_DB"

    /// Parses `PORTCULLIS_DB`; a bad value is an `invalidRequest` of one line naming the wrong part
    /// (and never the password).
    public init(parsing text: String) throws(PortcullisError) {
        let prefix = Self.setting
        if text.isEmpty {
            throw .invalidRequest("\(prefix): empty; expected a SQLite file path, sqlite:PATH or a postgres:// URL")
        }
        if let scheme = Self.urlScheme(of: text) {
            switch scheme.lowercased() {
            case "postgres", "postgresql":
                self = .postgres(try PostgresLocation(parsing: text))
                return
            case "sqlite":
                throw .invalidRequest("\(prefix): write sqlite:PATH (sqlite:/var/lib/portcullis/portcullis.db or sqlite:./data/portcullis.db), not sqlite://")
            default:
                throw .invalidRequest("\(prefix): unknown scheme \"\(scheme)\"; expected a SQLite file path, sqlite:PATH or a postgres:// URL")
            }
        }
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw .invalidRequest("\(prefix): sqlite: needs a file path: sqlite:PATH")
            }
            self = .sqlite(path: path)
            return
        }
        self = .sqlite(path: text)
    }

    /// `SCHEME` when `text` starts `SCHEME://` (RFC 3986 scheme characters), else nil.
    private static func urlScheme(of text: String) -> Substring? {
        guard let range = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<range.lowerBound]
        guard let first = scheme.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return nil }
        let allowed = scheme.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }
        return allowed ? scheme : nil
    }

    /// The SQLite path as given, or the PostgreSQL URL with its password replaced by `***`.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.redacted
        }
    }
}

/// How the PostgreSQL connection uses TLS (libpq's `sslmode` values that postgres-nio can honour).
public enum PostgresSSLMode: String, Sendable, Equatable, CaseIterable {
    /// Plain TCP.
    case disable
    /// TLS when the server offers it, else plain TCP (libpq's default).
    case prefer
    /// TLS or no connection.
    case require
}

/// A PostgreSQL database named by a `postgres://` URL.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// Host name or IP address (an IPv6 address without its brackets).
    public var host: String
    /// TCP port.
    public var port: Int
    /// Role to connect as.
    public var user: String
    /// Password, if the URL has one. Never printed.
    public var password: String?
    /// Database name.
    public var database: String
    /// TLS use.
    public var sslMode: PostgresSSLMode

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String, sslMode: PostgresSSLMode = .prefer) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// `postgres://user:***@host:5432/db?sslmode=prefer`: the location with its password hidden.
    public var redacted: String {
        let userinfo = Self.percentEncoded(user) + (password == nil ? "" : ":***")
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(userinfo)@\(hostPart):\(port)/\(Self.percentEncoded(database))?sslmode=\(sslMode.rawValue)"
    }

    public var description: String { redacted }

    /// `dump()` and debuggers show the password as `***` too.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "host": host, "port": port, "user": user, "password": password == nil ? "nil" : "***",
            "database": database, "sslMode": sslMode,
        ])
    }

    /// Parses `postgres://` or `postgresql://` URLs (see `DatabaseLocation`).
    ///
    /// The user information runs to the last `@`, so a password with a raw `@`, `/`, `?` or `#`
    /// still parses and never leaks into an error about a later part.
    public init(parsing text: String) throws(PortcullisError) {
        let prefix = DatabaseLocation.setting
        guard let schemeEnd = text.firstRange(of: "://"),
              ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound].lowercased()) else {
            throw .invalidRequest("\(prefix): a PostgreSQL URL starts postgres:// or postgresql://")
        }
        var rest = text[schemeEnd.upperBound...]

        // User information: up to the last "@".
        guard let at = rest.lastIndex(of: "@") else {
            throw .invalidRequest("\(prefix): a postgres URL needs a user name: postgres://USER@host:5432/db")
        }
        let userinfo = rest[..<at]
        rest = rest[rest.index(after: at)...]
        let rawUser: Substring
        var rawPassword: Substring?
        if let colon = userinfo.firstIndex(of: ":") {
            rawUser = userinfo[..<colon]
            rawPassword = userinfo[userinfo.index(after: colon)...]
        } else {
            rawUser = userinfo
        }
        guard !rawUser.isEmpty else {
            throw .invalidRequest("\(prefix): a postgres URL needs a user name: postgres://USER@host:5432/db")
        }
        guard let user = Self.percentDecoded(rawUser) else {
            throw .invalidRequest("\(prefix): the user name \"\(rawUser)\" has a bad percent-escape (write %XX with two hex digits for each byte of UTF-8)")
        }
        var password: String?
        if let rawPassword, !rawPassword.isEmpty {
            guard let decoded = Self.percentDecoded(rawPassword) else {
                throw .invalidRequest("\(prefix): the password has a bad percent-escape (write %XX with two hex digits for each byte of UTF-8; a literal % is %25)")
            }
            password = decoded
        }

        // Everything after the user information holds no secret and may be quoted in errors.
        if let hash = rest.firstIndex(of: "#") {
            throw .invalidRequest("\(prefix): a postgres URL takes no #fragment (got \"\(rest[hash...])\")")
        }
        var query: Substring = ""
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        var rawDatabase: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            rawDatabase = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        // Host and port.
        var host: Substring
        var rawPort: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw .invalidRequest("\(prefix): the IPv6 host \"\(rest)\" has no closing ]")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                rawPort = after.dropFirst()
            } else if !after.isEmpty {
                throw .invalidRequest("\(prefix): expected :PORT or /DATABASE after the host \"[\(host)]\" (got \"\(after)\")")
            }
            guard !host.isEmpty, host.contains(":"),
                  host.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." }) else {
                throw .invalidRequest("\(prefix): the host \"[\(host)]\" is not an IPv6 address")
            }
        } else {
            if let colon = rest.firstIndex(of: ":") {
                host = rest[..<colon]
                rawPort = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
            if let rawPort, rawPort.contains(":") {
                throw .invalidRequest("\(prefix): the host \"\(rest)\" has more than one ':'; an IPv6 address goes in brackets: postgres://user@[::1]:5432/db")
            }
            guard !host.isEmpty else {
                throw .invalidRequest("\(prefix): a postgres URL needs a host: postgres://user@HOST:5432/db")
            }
            guard host.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0)) }) else {
                throw .invalidRequest("\(prefix): the host \"\(host)\" is not a host name or IP address (letters, digits, '-', '.', '_'; IPv6 in brackets)")
            }
        }
        var port = 5432
        if let rawPort {
            guard !rawPort.isEmpty else {
                throw .invalidRequest("\(prefix): the port after \"\(host):\" is empty (leave out the ':' for 5432)")
            }
            guard rawPort.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else {
                throw .invalidRequest("\(prefix): the port \"\(rawPort)\" is not a number")
            }
            guard let number = Int(rawPort), (1...65535).contains(number) else {
                throw .invalidRequest("\(prefix): the port \"\(rawPort)\" is not in 1...65535")
            }
            port = number
        }

        // Database name.
        guard !rawDatabase.isEmpty else {
            throw .invalidRequest("\(prefix): a postgres URL needs a database name: postgres://user@host:5432/NAME")
        }
        guard let database = Self.percentDecoded(rawDatabase) else {
            throw .invalidRequest("\(prefix): the database name \"\(rawDatabase)\" has a bad percent-escape (write %XX with two hex digits for each byte of UTF-8)")
        }
        guard !database.contains("/") else {
            throw .invalidRequest("\(prefix): the database name \"\(database)\" contains '/'; the URL's path is one name: postgres://user@host:5432/NAME")
        }

        // Query: only sslmode.
        var sslMode = PostgresSSLMode.prefer
        var seen = false
        for parameter in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0]
            guard name == "sslmode" else {
                throw .invalidRequest("\(prefix): unknown URL parameter \"\(name)\" (only sslmode is accepted)")
            }
            guard !seen else {
                throw .invalidRequest("\(prefix): sslmode is given twice")
            }
            seen = true
            let value = parts.count == 2 ? parts[1] : ""
            guard let mode = PostgresSSLMode(rawValue: String(value)) else {
                throw .invalidRequest("\(prefix): sslmode must be disable, prefer or require (got \"\(value)\")")
            }
            sslMode = mode
        }
        self.init(host: String(host), port: port, user: user, password: password, database: database, sslMode: sslMode)
    }

    /// `text` with each `%XX` replaced by its byte; nil for a malformed escape or bytes that are not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        func hexValue(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case let b? where (0x30...0x39).contains(b): b - 0x30
            case let b? where (0x41...0x46).contains(b): b - 0x41 + 10
            case let b? where (0x61...0x66).contains(b): b - 0x61 + 10
            default: nil
            }
        }
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = hexValue(iterator.next()), let low = hexValue(iterator.next()) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `text` with every byte outside RFC 3986's unreserved characters written `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
