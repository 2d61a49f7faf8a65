import Foundation
import GRDB
import PortcullisCore

/// A row of `token_families`.
struct TokenFamilyRecord: SQLiteRecord {
    static let databaseTableName = "token_families"

    var id: String
    var userID: String
    var clientID: String?
    var scope: String
    var resources: [String]
    var createdAt: Date
    var revokedAt: Date?
    var revokedReason: String?

    enum CodingKeys: String, CodingKey {
        case id, scope, resources
        case userID = "user_id", clientID = "client_id", createdAt = "created_at", revokedAt = "revoked_at", revokedReason = "revoked_reason"
    }

    init(_ family: TokenFamily) {
        id = family.id
        userID = family.userID
        clientID = family.clientID
        scope = family.scope
        resources = family.resources
        createdAt = family.createdAt
        revokedAt = family.revokedAt
        revokedReason = family.revokedReason
    }

    var family: TokenFamily {
        TokenFamily(id: id, userID: userID, clientID: clientID, scope: scope, resources: resources, createdAt: createdAt,
                    revokedAt: revokedAt, revokedReason: revokedReason)
    }
}

/// A row of `refresh_tokens`.
struct RefreshTokenRow: SQLiteRecord {
    static let databaseTableName = "refresh_tokens"

    var tokenHash: String
    var familyID: String
    var issuedAt: Date
    var expiresAt: Date
    var usedAt: Date?
    var replacedBy: String?

    enum CodingKeys: String, CodingKey {
        case tokenHash = "token_hash", familyID = "family_id", issuedAt = "issued_at", expiresAt = "expires_at"
        case usedAt = "used_at", replacedBy = "replaced_by"
    }

    init(_ token: RefreshTokenRecord, familyID: String) {
        tokenHash = token.tokenHash
        self.familyID = familyID
        issuedAt = token.issuedAt
        expiresAt = token.expiresAt
    }
}
