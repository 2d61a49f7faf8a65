import Foundation
import PortcullisCrypto

/// The tamper-evident audit log: every event is chained to the one before it by SHA-256.
///
/// `contentHash` covers an event's fields (length-prefixed, so no two events serialise alike);
/// `chainHash` = SHA-256(previous chain hash ‖ content hash). Editing, inserting or deleting a row
/// breaks every later link; deleting the newest rows is caught by comparing the head hash with one
/// recorded earlier (`portcullis audit verify` prints it). GDPR erasure pseudonymises rows in place:
/// such a row keeps its stored content hash, is marked, and must be listed by a later `user.erase`
/// event, so the marking cannot hide an edit.
public enum AuditChain {
    /// The chain hash before the first event.
    public static let genesis = String(repeating: "0", count: 64)

    /// Hex SHA-256 of the event's fields.
    public static func contentHash(_ event: AuditEvent) -> String {
        var bytes: [UInt8] = []
        for field in ["\(event.at.timeIntervalSince1970)", event.action, event.actor, event.subject ?? "\u{0}", event.remoteAddress ?? "\u{0}", event.detail ?? "\u{0}"] {
            let utf8 = Array(field.utf8)
            bytes += Array("\(utf8.count):".utf8) + utf8
        }
        return Hex.encode(Digest.sha256(bytes))
    }

    /// The chain hash of an event whose content hash is `content`, after `previous`.
    public static func link(previous: String, content: String) -> String {
        Hex.encode(Digest.sha256(Array((previous + content).utf8)))
    }

    /// One stored row, as verification reads it.
    public struct Entry: Sendable, Equatable {
        /// Row id.
        public var id: Int64
        /// The fields as stored now.
        public var event: AuditEvent
        /// Stored content hash.
        public var contentHash: String
        /// Stored chain hash.
        public var chainHash: String
        /// True once GDPR erasure pseudonymised the row.
        public var pseudonymised: Bool

        /// Creates an entry.
        public init(id: Int64, event: AuditEvent, contentHash: String, chainHash: String, pseudonymised: Bool) {
            self.id = id
            self.event = event
            self.contentHash = contentHash
            self.chainHash = chainHash
            self.pseudonymised = pseudonymised
        }
    }

    /// The outcome of a verification.
    public enum Verdict: Sendable, Equatable {
        /// Every link holds; `head` is the newest chain hash (record it to detect truncation later).
        case intact(events: Int, head: String)
        /// The first row whose link does not hold, and why.
        case broken(id: Int64, reason: String)
    }

    /// Prefix of a `user.erase` event's detail, followed by the comma-separated row ids it pseudonymised.
    public static let erasedRowsPrefix = "pseudonymised audit rows: "

    /// Checks every link, oldest first.
    public static func verify(_ entries: [Entry]) -> Verdict {
        var erasedByLaterEvent = Set<Int64>()
        for entry in entries where entry.event.action == "user.erase" {
            guard let detail = entry.event.detail, detail.hasPrefix(erasedRowsPrefix) else { continue }
            for id in detail.dropFirst(erasedRowsPrefix.count).split(separator: ",").compactMap({ Int64($0) }) where id < entry.id {
                erasedByLaterEvent.insert(id)
            }
        }
        var previous = genesis
        for entry in entries {
            if entry.pseudonymised {
                guard erasedByLaterEvent.contains(entry.id) else {
                    return .broken(id: entry.id, reason: "marked pseudonymised but no later user.erase event lists it")
                }
            } else if contentHash(entry.event) != entry.contentHash {
                return .broken(id: entry.id, reason: "its fields were changed after it was written")
            }
            guard link(previous: previous, content: entry.contentHash) == entry.chainHash else {
                return .broken(id: entry.id, reason: "it does not follow the row before it (a row was inserted, removed or reordered)")
            }
            previous = entry.chainHash
        }
        return .intact(events: entries.count, head: previous)
    }
}
