import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PortcullisCore
import PortcullisSQLite
import Testing

/// The database holds password and token hashes: only its owner may read it (issue 13).
// Serialized: the umask is process-wide, so the tests that set it must not overlap each other.
@Suite(.serialized) struct DatabaseFileModeTests {
    /// A new, existing directory with mode 0755, as `data/` usually is.
    func openDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-mode-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        #expect(try mode(of: directory) == 0o755)
        return directory
    }

    func mode(of path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    func modes(_ path: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for suffix in ["", "-wal", "-shm"] { result["db" + suffix] = String(try mode(of: path + suffix), radix: 8) }
        return result
    }

    /// Runs `body` with the process umask set to `mask`, then restores it.
    func withUmask<T>(_ mask: mode_t, _ body: () async throws -> T) async rethrows -> T {
        let previous = umask(mask)
        defer { umask(previous) }
        return try await body()
    }

    @Test(arguments: [mode_t(0o022), mode_t(0o000)])
    func newDatabaseWALAndSHMAreMode0600InAnOpenDirectoryWhateverTheUmask(mask: mode_t) async throws {
        let path = try openDirectory() + "/portcullis.db"
        try await withUmask(mask) {
            // Given an existing 0755 directory and a permissive umask, when the store creates the database and writes.
            let store = try SQLiteStore(path: path)
            try await store.appendAudit(AuditEvent(at: Date(), action: "test.write", actor: "test"))
            // Then the database and the -wal and -shm SQLite created beside it are the owner's alone.
            let actual = try modes(path)
            #expect(actual == ["db": "600", "db-wal": "600", "db-shm": "600"])
            _ = store
        }
    }

    @Test func anExistingDatabaseWithWiderPermissionsIsTightenedWhenOpened() async throws {
        let path = try openDirectory() + "/portcullis.db"
        let first = try SQLiteStore(path: path)
        try await first.appendAudit(AuditEvent(at: Date(), action: "test.write", actor: "test"))
        // Given files left world-readable by an older version (the first store keeps -wal and -shm alive).
        for suffix in ["", "-wal", "-shm"] { #expect(chmod(path + suffix, 0o644) == 0) }
        let before = try modes(path)
        #expect(before == ["db": "644", "db-wal": "644", "db-shm": "644"])
        // When the store opens it again, all three are 0600 and the data is intact.
        let second = try SQLiteStore(path: path)
        let after = try modes(path)
        #expect(after == ["db": "600", "db-wal": "600", "db-shm": "600"])
        #expect(try await second.recentAudit(limit: 10).map(\.action) == ["test.write"])
        _ = first
    }
}
