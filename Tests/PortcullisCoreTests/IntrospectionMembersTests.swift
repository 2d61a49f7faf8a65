@testable import PortcullisCore
import Testing

@Suite struct IntrospectionMembersTests {
    /// An access token's members, built in a fixed order, are in name order and are its claims,
    /// with and without the optional ones and for one or several audiences.
    @Test func anAccessTokensMembersAreItsClaimsInNameOrder() throws {
        for (clientID, username, sid, audience) in [("app", "alice", "s1", ["a"]), (nil, nil, nil, ["a", "b"]), ("app", nil, "s2", ["b"])] as [(String?, String?, String?, [String])] {
            let claims = AccessTokenClaims(iss: "https://id.example", sub: "u1", aud: Audience(audience), exp: 20, iat: 10, nbf: 10, jti: "j",
                                           username: username, roles: ["viewer"], scope: "openid", sid: sid, clientID: clientID)
            let members = TokenIntrospection.members(claims)
            let names = members.sorted.map { $0.name }
            #expect(names == names.sorted() && Set(names).count == names.count, "\(names)")
            var expected: [String: IntrospectionValue] = [
                "active": .bool(true), "aud": audience.count == 1 ? .string(audience[0]) : .strings(audience), "exp": .int(20), "iat": .int(10),
                "iss": .string("https://id.example"), "jti": .string("j"), "nbf": .int(10), "roles": .strings(["viewer"]),
                "scope": .string("openid"), "sub": .string("u1"), "token_type": .string("Bearer"),
            ]
            expected["client_id"] = clientID.map(IntrospectionValue.string)
            expected["username"] = username.map(IntrospectionValue.string)
            expected["sid"] = sid.map(IntrospectionValue.string)
            #expect(members == IntrospectionMembers(expected))
        }
    }
}
