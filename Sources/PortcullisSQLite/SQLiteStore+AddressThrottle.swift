public import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore {
    public func addressLockedUntil(key: String) async throws -> Date? {
        try readAddressLockedUntil(key: key)
    }

    /// Always answered: a local read on a hot reader.
    public func addressLockedUntilImmediately(key: String) throws -> Immediate<Date?> {
        .answered(try readAddressLockedUntil(key: key))
    }

    private func readAddressLockedUntil(key: String) throws -> Date? {
        // Every login, refresh and client authentication asks: from memory while the file is
        // unchanged, else on a hot reader, not the pool's.
        try addressLockMemory.answer(key) {
            try hotReaders.read { db in
                try Double.fetchOne(db.cachedStatement(sql: "SELECT locked_until FROM address_throttles WHERE key = ?"), arguments: [key])
            }
        }.map(Date.init(timeIntervalSince1970:))
    }

    public func recordAddressFailure(key: String, at: Date, rule: AddressThrottleRule) async throws -> AddressThrottleState {
        // One write transaction: SQLite's single writer (across processes too) orders the failures.
        try await pool.write { db in
            let previous = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT recent_failures, trips, locked_until, expires_at FROM address_throttles WHERE key = ?"),
                arguments: [key]
            ).map { row in
                AddressThrottleState(recentFailures: AddressThrottleState.decodeFailures(row["recent_failures"]), trips: row["trips"],
                                     lockedUntil: (row["locked_until"] as Double?).map(Date.init(timeIntervalSince1970:)),
                                     expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
            }
            let next = rule.recording(failureAt: at, into: previous)
            try db.cachedStatement(sql: """
                INSERT INTO address_throttles (key, recent_failures, trips, locked_until, expires_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET recent_failures = excluded.recent_failures, trips = excluded.trips,
                                               locked_until = excluded.locked_until, expires_at = excluded.expires_at
                """).execute(arguments: [key, next.encodedFailures, next.trips, next.lockedUntil?.timeIntervalSince1970,
                                         next.expiresAt.timeIntervalSince1970])
            return next
        }
    }
}
