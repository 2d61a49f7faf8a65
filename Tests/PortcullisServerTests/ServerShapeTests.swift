import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PortcullisCore
import PortcullisServer
import Testing

/// The server's shape as rules that hold for every route, read from the router's own table:
/// 405 versus 404, the CSRF check on every form, and the account API's narrowed context.
@Suite struct ServerShapeTests {
    /// Every route the router serves, as (method, path).
    func routes(_ harness: Harness) -> [(method: HTTPRequest.Method, path: String)] {
        buildRouter(harness.services).routes.map { ($0.method, $0.path.description) }
    }

    @Test func everyRoutedPathAnswers405WithAllowForAMethodItLacksAnd404OnlyForUnknownPaths() async throws {
        let harness = try await Harness()
        let table = Dictionary(grouping: routes(harness), by: \.path).mapValues { Set($0.map(\.method.rawValue)) }
        #expect(table.count >= 25, "the router should list every route: \(table.keys.sorted())")
        try await harness.test { client in
            for (path, methods) in table {
                let missing: HTTPRequest.Method = methods.contains("PUT") ? .patch : .put
                let response = try await client.execute(uri: path, method: missing, headers: [:], body: nil)
                #expect(response.status == .methodNotAllowed, "\(missing) \(path)")
                #expect(response.errorCode == "method_not_allowed")
                let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                #expect(allow == methods, "Allow of \(path)")
            }
            for path in ["/v1/nothing", "/v1/me/elsewhere", "/oauth2", "/.well-known/other"] {
                let response = try await client.execute(uri: path, method: .get, headers: [:], body: nil)
                #expect(response.status == .notFound, "\(path)")
                #expect(response.errorCode == "not_found")
                #expect(response.headers[.allow] == nil)
            }
        }
    }

    @Test func everyFormRouteRefusesAnUnsafeRequestWithoutTheCSRFTokenExceptTheAuthorizationRequest() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        try await harness.addClient()
        let checked = try await harness.test { client in
            var checked: [String] = []
            let browser = Browser(client)
            // A real CSRF cookie and a signed-in session, so only the missing token can refuse.
            let page = try await browser.get(authorizeURI(standardRequest()))
            var login = page.hiddenFields
            login["username"] = "alice"
            login["password"] = "correct horse"
            _ = try await browser.post("/oauth2/login", login)
            #expect(browser.cookies.keys.contains("portcullis_session"))

            for route in routes(harness) where route.method != .get && route.method != .head {
                let response = try await browser.post(route.path, ["request": formEncode(standardRequest()), "code": "123456",
                                                                   "username": "alice", "password": "correct horse", "decision": "allow"])
                guard response.headers[.contentType]?.hasPrefix("text/html") == true || response.status == .seeOther else { continue }
                checked.append(route.path)
                if route.path == "/oauth2/authorize" {
                    #expect(response.status != .forbidden, "the authorization request is cross-site by design")
                } else {
                    #expect(response.status == .forbidden, "\(route.method) \(route.path) ran without a CSRF token")
                    #expect(response.text.contains("This form has expired"))
                }
            }
            return checked
        }
        #expect(Set(checked) == [
            "/oauth2/authorize", "/oauth2/login", "/oauth2/mfa", "/oauth2/consent", "/oauth2/logout", "/account/totp",
            "/oauth2/passkey", "/oauth2/passkey/finish", "/oauth2/mfa/passkey", "/oauth2/mfa/passkey/finish",
            "/account/passkeys/new", "/account/passkeys/register", "/account/passkeys/rename", "/account/passkeys/remove",
        ])
    }

    @Test func theAccountAPINeverRunsWithoutAVerifiedFirstPartyUserToken() async throws {
        let harness = try await Harness()
        try await harness.addUser()
        let account = routes(harness).filter { $0.path.hasPrefix("/v1/me") }
        #expect(account.count == 10)
        try await harness.test { client in
            for header in [nil, "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==", "Bearer", "Bearer not-a-token"] as [String?] {
                for route in account {
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if let header { headers[.authorization] = header }
                    let response = try await client.execute(uri: route.path, method: route.method, headers: headers, body: ByteBuffer(string: "{}"))
                    #expect(response.status == .unauthorized, "\(route.method) \(route.path) with \(header ?? "no header")")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                }
            }
        }
    }
}
