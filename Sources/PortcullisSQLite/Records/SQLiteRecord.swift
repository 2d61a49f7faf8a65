import Foundation
import GRDB

/// A row of one table as a GRDB record: times are REAL seconds since 1970 (the schema's choice,
/// not GRDB's default text dates), `[String]` columns are JSON arrays.
protocol SQLiteRecord: Codable, FetchableRecord, PersistableRecord {}

extension SQLiteRecord {
    static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy { .timeIntervalSince1970 }
    static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy { .timeIntervalSince1970 }
}
