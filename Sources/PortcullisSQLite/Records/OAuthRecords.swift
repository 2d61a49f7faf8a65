import Foundation
import GRDB
import PortcullisCore
import PortcullisCrypto

/// A row of `oauth_clients`.
struct ClientRecord: SQLiteRecord {
    static let databaseTableName = "oauth_clients"

    var id: String
    var name: String
    var secretHash: String?
    var redirectURIs: [String]
    var postLogoutRedirectURIs: [String]
    var scopes: [String]
    /// Raw values: an unknown grant type in the database is skipped, not an error.
    var grantTypes: [String]
    var resources: [String]
    var pkceRequired: Bool
    var idTokenAlgorithm: String
    var firstParty: Bool
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, scopes, resources
        case secretHash = "secret_hash", redirectURIs = "redirect_uris", postLogoutRedirectURIs = "post_logout_redirect_uris"
        case grantTypes = "grant_types", pkceRequired = "pkce_required", idTokenAlgorithm = "id_token_alg"
        case firstParty = "first_party", createdAt = "created_at"
    }

    init(_ client: OAuthClient) {
        id = client.id
        name = client.name
        secretHash = client.secretHash
        redirectURIs = client.redirectURIs
        postLogoutRedirectURIs = client.postLogoutRedirectURIs
        scopes = client.scopes
        grantTypes = client.grantTypes.map(\.rawValue)
        resources = client.resources
        pkceRequired = client.pkceRequired
        idTokenAlgorithm = client.idTokenAlgorithm.rawValue
        firstParty = client.firstParty
        createdAt = client.createdAt
    }

    var client: OAuthClient {
        OAuthClient(id: id, name: name, secretHash: secretHash, redirectURIs: redirectURIs, postLogoutRedirectURIs: postLogoutRedirectURIs,
                    scopes: scopes, grantTypes: grantTypes.compactMap(GrantType.init(rawValue:)), resources: resources,
                    pkceRequired: pkceRequired, idTokenAlgorithm: JWSAlgorithm(rawValue: idTokenAlgorithm) ?? .rs256,
                    firstParty: firstParty, createdAt: createdAt)
    }
}

/// A row of `oauth_codes`.
struct AuthorizationCodeRow: SQLiteRecord {
    static let databaseTableName = "oauth_codes"

    var codeHash: String
    var clientID: String
    var userID: String
    var redirectURI: String
    var scope: String
    var nonce: String?
    var codeChallenge: String?
    var authTime: Date
    var amr: [String]
    var resources: [String]
    var expiresAt: Date
    var usedAt: Date?
    var familyID: String?
    var accessTokenID: String?
    var replayedAt: Date?

    enum CodingKeys: String, CodingKey {
        case scope, nonce, amr, resources
        case codeHash = "code_hash", clientID = "client_id", userID = "user_id", redirectURI = "redirect_uri"
        case codeChallenge = "code_challenge", authTime = "auth_time", expiresAt = "expires_at", usedAt = "used_at"
        case familyID = "family_id", accessTokenID = "access_jti", replayedAt = "replayed_at"
    }

    init(_ code: AuthorizationCodeRecord) {
        codeHash = code.codeHash
        clientID = code.clientID
        userID = code.userID
        redirectURI = code.redirectURI
        scope = code.scope
        nonce = code.nonce
        codeChallenge = code.codeChallenge
        authTime = code.authTime
        amr = code.amr
        resources = code.resources
        expiresAt = code.expiresAt
        familyID = code.familyID
        accessTokenID = code.accessTokenID
    }

    var code: AuthorizationCodeRecord {
        AuthorizationCodeRecord(codeHash: codeHash, clientID: clientID, userID: userID, redirectURI: redirectURI, scope: scope, nonce: nonce,
                                codeChallenge: codeChallenge, authTime: authTime, amr: amr, resources: resources, expiresAt: expiresAt,
                                familyID: familyID, accessTokenID: accessTokenID)
    }
}

/// A row of `browser_sessions`.
struct BrowserSessionRecord: SQLiteRecord {
    static let databaseTableName = "browser_sessions"

    var idHash: String
    var userID: String
    var authTime: Date
    var amr: [String]
    var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case amr
        case idHash = "id_hash", userID = "user_id", authTime = "auth_time", expiresAt = "expires_at"
    }

    init(_ session: BrowserSession) {
        idHash = session.idHash
        userID = session.userID
        authTime = session.authTime
        amr = session.amr
        expiresAt = session.expiresAt
    }

    var session: BrowserSession {
        BrowserSession(idHash: idHash, userID: userID, authTime: authTime, amr: amr, expiresAt: expiresAt)
    }
}
