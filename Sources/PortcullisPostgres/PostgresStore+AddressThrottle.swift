public import Foundation
public import PortcullisCore
import PostgresNIO

extension PostgresStore: AddressThrottleStore {
    /// Always `.mustWait`: the lock lives in the shared database.
    public func addressLockedUntilImmediately(key: String) throws -> Immediate<Date?> {
        .mustWait
    }

    public func addressLockedUntil(key: String) async throws -> Date? {
        // Asked before every login, refresh and client authentication: batched like the other hot reads.
        try await addressLockReads.answer(key) { [self] keys in
            try inQuestionOrder(try await prepared(AddressLocksByKey(keys: keys)), count: keys.count)
        }.map(Date.init(timeIntervalSince1970:))
    }

    public func recordAddressFailure(key: String, at: Date, rule: AddressThrottleRule) async throws -> AddressThrottleState {
        let logger = self.logger
        return try await transaction { connection in
            // The upsert creates or row-locks the counter in one statement: concurrent failures from
            // every replica queue here, and each reads the state the previous one committed (READ
            // COMMITTED). A row it just created has expires_at 0, which the rule reads as no state.
            guard let row = try await connection.rows("""
                INSERT INTO address_throttles (key, recent_failures, trips, locked_until, expires_at) VALUES (\(key), '', 0, NULL, 0)
                ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
                RETURNING recent_failures, trips, locked_until, expires_at
                """, logger: logger).first else { throw PortcullisError.internalFailure("address throttle upsert returned nothing") }
            let previous = AddressThrottleState(
                recentFailures: AddressThrottleState.decodeFailures(try row.value("recent_failures", as: String.self)),
                trips: try row.value("trips", as: Int.self), lockedUntil: try row.optionalDate("locked_until"), expiresAt: try row.date("expires_at"))
            let next = rule.recording(failureAt: at, into: previous)
            try await connection.execute("""
                UPDATE address_throttles SET recent_failures = \(next.encodedFailures), trips = \(next.trips),
                       locked_until = \(next.lockedUntil?.timeIntervalSince1970), expires_at = \(next.expiresAt.timeIntervalSince1970)
                WHERE key = \(key)
                """, logger: logger)
            return next
        }
    }
}

/// The stored lock of each key, in question order (NULL for a key without one).
struct AddressLocksByKey: BatchedKeysStatement {
    static let sql = """
        SELECT q.i, t.locked_until
        FROM unnest($1::text[]) WITH ORDINALITY AS q(wanted, i) LEFT JOIN address_throttles t ON t.key = q.wanted
        """
    typealias Row = (index: Int64, answer: Double?)
    /// Address keys.
    let keys: [String]

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (index, until) = try row.decode((Int64, Double?).self)
        return (index, until)
    }
}
