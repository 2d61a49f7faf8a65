import GRDBSQLite
import PortcullisCore
import Synchronization

/// The token check's answers while the file does not change.
typealias LivenessMemory = ReadMemory<LivenessQuestion, [String]?>

/// OAuth clients by id while the file does not change: the read at every client authentication
/// (token, introspection, revocation) was a fifth of an introspection's CPU (GRDB's Codable row
/// decoding and the JSON lists in it).
typealias ClientMemory = ReadMemory<String, OAuthClient?>

/// Each address's lockout end (seconds since 1970) while the file does not change: every client
/// authentication and login asks, and almost always gets "none".
typealias AddressLockMemory = ReadMemory<String, Double?>

/// Answers of one kind of read kept in memory while the database does not change, so that a
/// repeated read costs a hash lookup and one `PRAGMA data_version` instead of the read.
///
/// `PRAGMA data_version` on a connection changes whenever any other connection — this server's
/// writer, the CLI, another process — committed to the file. Every lookup reads it first; a new
/// value forgets every answer. An answer is kept only under the value read before its own read
/// began, so it is never older than that value: a change committed anywhere (a revocation, a
/// deleted client) is seen by the next lookup, as with a read per lookup. Any commit forgets
/// everything (logins included), which is coarse but needs no list of what can change an answer.
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

/// One read-only connection asking `PRAGMA data_version`, through SQLite's C API (GRDB's
/// statement machinery cost more than the pragma).
final class DataVersion: @unchecked Sendable {
    // Both used only under `lock`.
    private let connection: OpaquePointer
    private let statement: OpaquePointer
    private let lock = Mutex<Void>(())

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
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(connection)
    }

    /// The value now; it differs from the last one whenever another connection committed since.
    /// Inside a `StoreReadScope`, the scope's one reading.
    func current() throws -> Int64 {
        try StoreReadScope.reading(of: self) { try readNow() }
    }

    private func readNow() throws -> Int64 {
        try lock.withLock { _ in
            defer { sqlite3_reset(statement) }
            guard sqlite3_step(statement) == SQLITE_ROW else {
                throw PortcullisError.internalFailure("PRAGMA data_version failed: \(String(cString: sqlite3_errmsg(connection)))")
            }
            return sqlite3_column_int64(statement, 0)
        }
    }
}
