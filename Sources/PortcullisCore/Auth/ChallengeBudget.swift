public import Foundation
import Synchronization

/// How many unauthenticated WebAuthn challenges one client address (an IPv6 client's whole /64,
/// as `AddressThrottle.key` counts) may make per minute: each passwordless options call stores a
/// challenge row (kept five minutes), so without a bound one address could fill the table faster
/// than the janitor empties it.
///
/// Counted in this process's memory, per fixed minute: a bound on storage growth, not a secret
/// guard (failed sign-ins are what the database-backed address limit counts), so a replica's own
/// count is enough. At most `maximumAddresses` are tracked; past that the counts start over.
public final class ChallengeBudget: Sendable {
    /// Challenges one address may make per minute.
    public let perMinute: Int
    /// Addresses tracked at once.
    public let maximumAddresses: Int
    private let counts = Mutex<(minute: Int64, byAddress: [String: Int])>((0, [:]))

    /// A budget of `perMinute` challenges per address and minute.
    public init(perMinute: Int = 30, maximumAddresses: Int = 100_000) {
        self.perMinute = perMinute
        self.maximumAddresses = maximumAddresses
    }

    /// Spends one challenge of `address` at `now`; nil when it may, else the seconds until the next minute.
    public func spend(address: String, now: Date) -> Int? {
        let seconds = now.timeIntervalSince1970
        let minute = Int64(seconds / 60)
        return counts.withLock { counts in
            if counts.minute != minute || counts.byAddress.count >= maximumAddresses {
                counts = (minute, [:])
            }
            let spent = counts.byAddress[address, default: 0]
            guard spent < perMinute else { return max(1, Int((Double(minute + 1) * 60 - seconds).rounded(.up))) }
            counts.byAddress[address] = spent + 1
            return nil
        }
    }
}
