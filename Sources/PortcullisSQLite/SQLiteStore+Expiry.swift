import Foundation
import GRDB
public import PortcullisCore

extension SQLiteStore {
    /// Always sweeps: SQLite has one writer at a time, so there is no second replica to take turns with.
    public func removeExpired(_ cutoff: ExpiryCutoff) async throws -> SweepOutcome {
        let before = cutoff.expiredBefore.timeIntervalSince1970
        return .swept(try await pool.write { db in
            func delete(_ sql: String, _ arguments: StatementArguments) throws -> Int {
                try db.execute(sql: sql, arguments: arguments)
                return db.changesCount
            }
            var removed = RemovedRows()
            removed.codes = try delete("DELETE FROM oauth_codes WHERE expires_at < ?", [before])
            removed.browserSessions = try delete("DELETE FROM browser_sessions WHERE expires_at < ?", [before])
            removed.mfaChallenges = try delete("DELETE FROM mfa_challenges WHERE expires_at < ?", [before])
            removed.webAuthnChallenges = try delete("DELETE FROM webauthn_challenges WHERE expires_at < ?", [before])
            removed.revokedAccessTokens = try delete("DELETE FROM revoked_access_tokens WHERE expires_at < ?", [before])
            // Expired tokens first (used or not: an expired token is refused before reuse is
            // considered); a family left without tokens then goes once its access tokens are dead too.
            removed.refreshTokens = try delete("DELETE FROM refresh_tokens WHERE expires_at < ?", [before])
            removed.families = try delete(
                """
                DELETE FROM token_families
                WHERE (revoked_at IS NOT NULL AND revoked_at < ?)
                   OR (created_at < ? AND NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = token_families.id))
                """,
                [before, cutoff.tokenlessFamiliesStartedBefore.timeIntervalSince1970])
            removed.addressThrottles = try delete("DELETE FROM address_throttles WHERE expires_at < ?", [before])
            removed.decisions = try delete(
                "DELETE FROM decision_log WHERE id <= (SELECT MAX(id) FROM decision_log) - ?", [max(0, cutoff.keepDecisions)])
            return removed
        })
    }
}
