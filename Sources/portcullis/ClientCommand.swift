import ArgumentParser
import Foundation
import PortcullisCore
import PortcullisCrypto

struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Register and manage OAuth clients.", subcommands: [Add.self, List.self, Show.self, Delete.self])

    /// What `client show --json` and `client list --json` print (never the secret hash).
    struct ClientRow: Encodable {
        let client_id: String
        let name: String
        let type: String
        let redirect_uris: [String]
        let post_logout_redirect_uris: [String]
        let scopes: [String]
        let grant_types: [String]
        let resources: [String]
        let pkce: String
        let id_token_signed_response_alg: String
        let first_party: Bool
        let created_at: Date

        init(_ client: OAuthClient) {
            client_id = client.id
            name = client.name
            type = client.isPublic ? "public" : "confidential"
            redirect_uris = client.redirectURIs
            post_logout_redirect_uris = client.postLogoutRedirectURIs
            scopes = client.scopes
            grant_types = client.grantTypes.map(\.rawValue)
            resources = client.resources
            pkce = client.pkceRequired ? "required" : "optional"
            id_token_signed_response_alg = client.idTokenAlgorithm.rawValue
            first_party = client.firstParty
            created_at = client.createdAt
        }

        func printText() {
            show("""
                client_id:     \(client_id)
                name:          \(name)
                type:          \(type)\(first_party ? ", first-party (no consent page)" : "")
                redirect URIs: \(redirect_uris.joined(separator: " "))
                logout URIs:   \(post_logout_redirect_uris.isEmpty ? "-" : post_logout_redirect_uris.joined(separator: " "))
                scopes:        \(scopes.joined(separator: " "))
                grant types:   \(grant_types.joined(separator: " "))
                resources:     \(resources.isEmpty ? "-" : resources.joined(separator: " "))
                PKCE:          \(pkce)
                ID token alg:  \(id_token_signed_response_alg)
                """)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a client; prints its id and, for confidential clients, the secret (shown once).")
        @Argument(help: "Name shown on the consent page.") var name: String
        @Option(help: "Client id (default: random).") var id: String?
        @Flag(name: .customLong("public"), help: "A public client (native or browser app): no secret, PKCE S256 required.") var isPublic = false
        @Option(name: .customLong("redirect-uri"), help: "Allowed redirect URI (repeatable; exact match).") var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "Allowed post-logout redirect URI (repeatable).") var postLogoutRedirectURIs: [String] = []
        @Option(name: .customLong("scope"), help: "Extra scope the client may ask for (repeatable; openid profile email offline_access always).") var scopes: [String] = []
        @Option(name: .customLong("grant-type"), help: "authorization_code, refresh_token, client_credentials (repeatable; default: all a client of its type may use).") var grantTypes: [String] = []
        @Option(name: .customLong("id-token-alg"), help: "ES256, EdDSA or RS256 (default RS256).") var idTokenAlgorithm = "RS256"
        @Option(name: .customLong("resource"), help: "RFC 8707 resource (API) URI the client may ask tokens for; it becomes their aud (repeatable).") var resources: [String] = []
        @Option(name: .customLong("pkce"), help: "required (default) or optional; optional only for confidential clients (RFC 9700 2.1.1).") var pkce = "required"
        @Flag(name: .customLong("first-party"), help: "Skip the consent page; its tokens carry the issuer as audience and reach the account API.") var firstParty = false
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            guard let algorithm = JWSAlgorithm(rawValue: idTokenAlgorithm) else {
                throw PortcullisError.invalidRequest("--id-token-alg must be ES256, EdDSA or RS256")
            }
            guard ["required", "optional"].contains(pkce) else { throw PortcullisError.invalidRequest("--pkce must be required or optional") }
            let grants = try grantTypes.map { name in
                guard let grant = GrantType(rawValue: name) else {
                    throw PortcullisError.invalidRequest("--grant-type must be among \(GrantType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return grant
            }
            let (client, secret) = try await ClientAdministration(store: try options.openStore()).register(
                id: id, name: name, isPublic: isPublic, redirectURIs: redirectURIs, postLogoutRedirectURIs: postLogoutRedirectURIs,
                scopes: scopes, grantTypes: grants, resources: resources, pkceRequired: pkce == "required",
                idTokenAlgorithm: algorithm, firstParty: firstParty)
            if options.json {
                var object = ["client_id": client.id]
                if let secret { object["client_secret"] = secret }
                try printJSON(object)
                return
            }
            show("client_id:     \(client.id)")
            if let secret { show("client_secret: \(secret)   (shown once; store it now)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List clients.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let rows = try await ClientAdministration(store: try options.openStore()).list().map(ClientRow.init)
            if options.json { try printJSON(rows); return }
            for row in rows { show(["\(row.client_id)", "\(row.name)", "\(row.type)", "\(row.redirect_uris.joined(separator: ","))"], separator: "\t") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one client.")
        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The client's id (one; it may start with \"-\").", valueName: "id")) var captured: [String]
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let id = try GeneratedIdentifier.one(of: captured, named: "id")
            let row = ClientRow(try await ClientAdministration(store: try options.openStore()).show(id: id))
            if options.json { try printJSON(row) } else { row.printText() }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a client with its codes, consents and refresh tokens.")
        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The client's id (one; it may start with \"-\").", valueName: "id")) var captured: [String]
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let id = try GeneratedIdentifier.one(of: captured, named: "id")
            try await ClientAdministration(store: try options.openStore()).delete(id: id)
            report(options, ["client_id": id, "result": "deleted"])
        }
    }
}
