import GRDBSQLite
import PortcullisCore
import Synchronization

/// The token check's answers about what tokens were granted under (session, user, client, and
/// the user's roles) while the file does not change; the jti is `RevokedTokenMemory`'s.
typealias LivenessMemory = ReadMemory<GrantQuestion, [String]?>

/// The part of a `LivenessQuestion` that every token of one session shares: is the session live,
/// the user enabled, the client still there, and which roles has the user.
struct GrantQuestion: Hashable, Sendable {
    let sessionID: String?
    let subject: String
    let clientID: String?
    let requireUser: Bool
    let rolesOfUserID: String?
}

/// OAuth clients by id while the file does not change: the read at every client authentication
/// (token, introspection, revocation) was a fifth of an introspection's CPU (GRDB's Codable row
/// decoding and the JSON lists in it).
typealias ClientMemory = ReadMemory<String, OAuthClient?>

/// Each address's lockout end (seconds since 1970) while the file does not change: every client
/// authentication and login asks, and almost always gets "none".
typealias AddressLockMemory = ReadMemory<String, Double?>

/// Answers of one kind of read kept in memory while the database does not change, so that a
/// repeated read costs a hash lookup and one look at the file's data version instead of the read.
///
/// The data version (`DataVersion`) changes whenever any connection — this server's writer, the
/// CLI, another process — committed to the file. Every lookup reads it first; a new value forgets
/// every answer. An answer is kept only under the value read before its own read began, so it is
/// never older than that value: a change committed anywhere (a revocation, a deleted client) is
/// seen by the next lookup, as with a read per lookup. Any commit forgets everything (logins
/// included), which is coarse but needs no list of what can change an answer.
final class ReadMemory<Question: Hashable & Sendable, Answer: Sendable>: Sendable {
    private struct State {
        var version: Int64 = -1
        var answers: [Question: Answer] = [:]
    }

    /// Most answers kept; past it the memory starts over.
    let capacity: Int
    private let state = Mutex(State())
    private let dataVersion: DataVersion

    /// A memory forgetting everything whenever `dataVersion` changes (memories of one file share it).
    init(watching dataVersion: DataVersion, capacity: Int = 10_000) {
        self.capacity = capacity
        self.dataVersion = dataVersion
    }

    /// Answers kept now (for tests).
    var count: Int { state.withLock { $0.answers.count } }

    /// The remembered answer to `question`, else `read`'s, remembered.
    func answer(_ question: Question, read: () throws -> Answer) throws -> Answer {
        let version = try dataVersion.current()
        let remembered: Answer? = state.withLock { state in
            if state.version != version {
                state.version = version
                state.answers.removeAll(keepingCapacity: true)
                return nil
            }
            return state.answers[question]
        }
        if let remembered { return remembered }
        let answer = try read()
        state.withLock { state in
            // A commit seen by another lookup meanwhile: this answer may predate it.
            guard state.version == version else { return }
            if state.answers.count >= capacity { state.answers.removeAll(keepingCapacity: true) }
            state.answers[question] = answer
        }
        return answer
    }
}

/// Tells whether any connection committed to the file since the last look, as a number that
/// changes when one did (like `PRAGMA data_version`, which it also falls back to).
///
/// In WAL mode every commit ends by rewriting the WAL-index header at the start of the `-shm`
/// shared memory (its `iChange` counter goes up), and a commit is visible to readers exactly when
/// that header says so: SQLite's own readers start from it. So a lookup reads those 48 bytes from
/// SQLite's mapping, with no statement, lock or system call (the pragma cost two `fcntl` calls and
/// a read transaction per request, a tenth of an authorization), and counts a change whenever they
/// differ from the last bytes seen. A write caught half-done reads as a change (answers are only
/// forgotten early); a commit that returned before the lookup began is always seen. The mapping
/// is the read-only connection's own (`xShmMap`), valid while it is open, so no descriptor of the
/// `-shm` file is opened here (closing one would drop SQLite's locks on it). Without WAL, or if the
/// header is not the format SQLite documents, each lookup runs the pragma.
final class DataVersion: @unchecked Sendable {
    /// The 48 bytes of the first copy of the WAL-index header.
    private struct Header: Equatable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)

        init() {}

        init(_ memory: UnsafeRawPointer) {
            words = (memory.load(fromByteOffset: 0, as: UInt64.self), memory.load(fromByteOffset: 8, as: UInt64.self),
                     memory.load(fromByteOffset: 16, as: UInt64.self), memory.load(fromByteOffset: 24, as: UInt64.self),
                     memory.load(fromByteOffset: 32, as: UInt64.self), memory.load(fromByteOffset: 40, as: UInt64.self))
        }

        static func == (a: Header, b: Header) -> Bool {
            a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2
                && a.words.3 == b.words.3 && a.words.4 == b.words.4 && a.words.5 == b.words.5
        }
    }

    // Both used only under `lock`.
    private let connection: OpaquePointer
    private let statement: OpaquePointer
    private let lock = Mutex<Void>(())
    /// SQLite's mapping of the `-shm` file's first 32 KiB, nil when the pragma is read instead.
    private let sharedMemory: UnsafeRawPointer?
    /// The header last seen and how many changes have been counted.
    private let seen: Mutex<(header: Header, version: Int64)>

    init(path: String) throws {
        var connection: OpaquePointer?
        guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let connection else {
            sqlite3_close(connection)
            throw PortcullisError.internalFailure("cannot open \(path) to watch its data version")
        }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection, "PRAGMA data_version", -1, &statement, nil) == SQLITE_OK, let statement else {
            sqlite3_close(connection)
            throw PortcullisError.internalFailure("cannot prepare PRAGMA data_version")
        }
        sqlite3_busy_timeout(connection, 10)
        self.connection = connection
        self.statement = statement
        // A first reading opens the WAL and maps its index.
        _ = try? Self.pragma(statement, connection)
        sharedMemory = Self.walIndex(of: connection)
        seen = Mutex((sharedMemory.map(Header.init) ?? Header(), 0))
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(connection)
    }

    /// Whether lookups read the WAL-index header (else the pragma), for tests.
    var readsSharedMemory: Bool { sharedMemory != nil }

    /// The value now; it differs from the last one whenever another connection committed since.
    /// Inside a `StoreReadScope`, the scope's one reading.
    func current() throws -> Int64 {
        try StoreReadScope.reading(of: self) { try readNow() }
    }

    private func readNow() throws -> Int64 {
        guard let sharedMemory else {
            return try lock.withLock { _ in try Self.pragma(statement, connection) }
        }
        let header = Header(sharedMemory)
        atomicMemoryFence(ordering: .acquiring)
        return seen.withLock { seen in
            if seen.header != header {
                seen = (header, seen.version + 1)
            }
            return seen.version
        }
    }

    private static func pragma(_ statement: OpaquePointer, _ connection: OpaquePointer) throws -> Int64 {
        defer { sqlite3_reset(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else {
            throw PortcullisError.internalFailure("PRAGMA data_version failed: \(String(cString: sqlite3_errmsg(connection)))")
        }
        return sqlite3_column_int64(statement, 0)
    }

    /// The connection's mapping of the WAL index's first region, when the file is in WAL mode and
    /// the header there is SQLite's documented format (version 3007000, initialised).
    private static func walIndex(of connection: OpaquePointer) -> UnsafeRawPointer? {
        var mode: OpaquePointer?
        guard sqlite3_prepare_v2(connection, "PRAGMA journal_mode", -1, &mode, nil) == SQLITE_OK, let mode else { return nil }
        defer { sqlite3_finalize(mode) }
        guard sqlite3_step(mode) == SQLITE_ROW, let text = sqlite3_column_text(mode, 0), String(cString: text) == "wal" else { return nil }
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(connection, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK, let file,
              let methods = file.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap else { return nil }
        var region: UnsafeMutableRawPointer?
        // Region 0, 32 KiB (SQLite's WAL-index page size), not extended: it exists once a read has run.
        guard map(file, 0, 32_768, 0, &region) == SQLITE_OK, let region else { return nil }
        let header = UnsafeRawPointer(region)
        guard header.load(fromByteOffset: 0, as: UInt32.self) == 3_007_000, header.load(fromByteOffset: 12, as: UInt8.self) == 1 else {
            return nil
        }
        return header
    }
}
