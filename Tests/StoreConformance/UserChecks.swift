import Foundation
import PortcullisCore
import PortcullisCrypto

extension StoreConformance {
    static let userChecks: [ConformanceCheck] = [
        ConformanceCheck("user.createAndReadByIDAndName", store: { store in
            let user = makeUser("Alice")
            try expect(try await store.user(id: user.id), nil, "absent before creation")
            try await store.createUser(user)
            try expect(try await store.user(id: user.id), user, "by id")
            try expect(try await store.user(username: "aLiCe"), user, "by name, any case")
            try expect(try await store.user(username: "bob"), nil, "unknown name")
            try expect(try await store.user(id: "nobody"), nil, "unknown id")
        }),
        ConformanceCheck("user.namesAreUniqueWithoutRegardToCase", store: { store in
            try await store.createUser(makeUser("Alice"))
            var other = makeUser("alice")
            other.id = "another-id"
            try await expectThrows(PortcullisError.conflict("user alice already exists"), "same name, other case") {
                try await store.createUser(other)
            }
            try expect(try await store.allUsers().count, 1, "users after the conflict")
        }),
        ConformanceCheck("user.namesFoldBeyondASCII", store: { store in
            // One case-folding rule (User.key(forUsername:): NFC, then Unicode lowercasing):
            // "Ä", "ä" and "A" + combining diaeresis are one name.
            let upper = makeUser("\u{C4}")
            try await store.createUser(upper)
            for (index, name) in ["\u{E4}", "A\u{308}", "a\u{308}"].enumerated() {
                var other = makeUser(name)
                other.id = "other-\(index)"
                try await expectThrows(PortcullisError.conflict("user \(name) already exists"), "\(name.unicodeScalars.map { "U+" + String($0.value, radix: 16) }) after Ä") {
                    try await store.createUser(other)
                }
                try expect(try await store.user(username: name)?.id, upper.id, "lookup by \(name.unicodeScalars.map { "U+" + String($0.value, radix: 16) })")
            }
            try expect(try await store.user(username: "\u{C4}")?.id, upper.id, "lookup by the name as created")
            try expect(try await store.allUsers().count, 1, "users after the conflicts")
            try await store.createUser(makeUser("\u{D6}"))
            try expect(try await store.user(username: "o\u{308}")?.username, "\u{D6}", "Ö found by decomposed ö")
        }),
        ConformanceCheck("user.allUsersAreOrderedByNameWithoutRegardToCase", store: { store in
            for name in ["carol", "Bob", "alice"] { try await store.createUser(makeUser(name)) }
            try expect(try await store.allUsers().map(\.username), ["alice", "Bob", "carol"])
        }),
        ConformanceCheck("user.updatePasswordHashAndDisable", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            let later = now.addingTimeInterval(10)
            try await store.updatePasswordHash(userID: user.id, hash: "$argon2id$new", at: later)
            let updated = try await store.user(id: user.id)
            try expect(updated?.passwordHash, "$argon2id$new", "new hash")
            try expect(updated?.updatedAt, later, "updated_at")
            try expect(try await store.setDisabled(userID: user.id, disabled: true, at: later), true, "disable")
            try expect(try await store.user(id: user.id)?.disabled, true, "disabled")
            try expect(try await store.setDisabled(userID: user.id, disabled: false, at: later), true, "enable")
            try expect(try await store.user(id: user.id)?.disabled, false, "enabled")
            try expect(try await store.setDisabled(userID: "nobody", disabled: true, at: later), false, "absent user")
        }),
        ConformanceCheck("user.deleteCascadesToGrantsSessionsAndMFA", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            _ = try await store.grantRole("admin", toUserID: user.id, at: now)
            try await store.createFamily(TokenFamily(id: "f1", userID: user.id, clientID: nil, scope: "s", createdAt: now), firstToken: record("h1"))
            try await store.saveTOTPEnrolment(TOTPCredential(userID: user.id, sealedSecret: [1, 2, 3], parameters: .standard, createdAt: now))
            try expect(try await store.deleteUser(id: user.id), true, "delete")
            try expect(try await store.user(id: user.id), nil, "user gone")
            try expect(try await store.roles(ofUserID: user.id), [], "grants gone")
            try expect(try await store.family(id: "f1"), nil, "family gone")
            try expect(try await store.family(ofTokenHash: "h1"), nil, "token gone")
            try expect(try await store.totpCredential(userID: user.id), nil, "TOTP gone")
            try expect(try await store.deleteUser(id: user.id), false, "second delete")
        }),
        ConformanceCheck("user.metacharactersAreStoredLiterally", store: { store in
            let user = makeUser("x'; DROP TABLE users; --")
            try await store.createUser(user)
            try expect(try await store.user(username: "x'; DROP TABLE users; --")?.id, user.id)
            try expect(try await store.allUsers().count, 1)
        }),
        ConformanceCheck("store.isHealthy", store: { store in
            try expect(await store.isHealthy(), true, "a fresh store is healthy")
        }),
    ]

    static let roleChecks: [ConformanceCheck] = [
        ConformanceCheck("role.grantsAreIdempotentSortedAndRevocable", store: { store in
            let user = makeUser()
            try await store.createUser(user)
            try expect(try await store.roles(ofUserID: user.id), [], "no grants")
            try expect(try await store.grantRole("viewer", toUserID: user.id, at: now), true, "first grant")
            try expect(try await store.grantRole("viewer", toUserID: user.id, at: now), false, "same grant again")
            try expect(try await store.grantRole("admin", toUserID: user.id, at: now), true, "second role")
            try expect(try await store.roles(ofUserID: user.id), ["admin", "viewer"], "sorted")
            try expect(try await store.revokeRole("viewer", fromUserID: user.id), true, "revoke")
            try expect(try await store.revokeRole("viewer", fromUserID: user.id), false, "revoke again")
            try expect(try await store.roles(ofUserID: user.id), ["admin"])
        }),
        ConformanceCheck("role.concurrentReadsEachGetTheirOwnUsersRoles", store: { store in
            // Concurrent reads may be answered together (see the liveness check): each must get its own user's roles.
            var grants: [(id: String, roles: [String])] = [("nobody", [])]
            for (index, roles) in [["viewer"], ["admin", "viewer"], [], ["auditor", "editor", "viewer"], ["editor"]].enumerated() {
                let user = makeUser("user\(index)")
                try await store.createUser(user)
                for role in roles { _ = try await store.grantRole(role, toUserID: user.id, at: now) }
                grants.append((user.id, roles.sorted()))
            }
            let asked = grants
            let answers = try await concurrently(90) { index in (index, try await store.roles(ofUserID: asked[(index * 7) % asked.count].id)) }
            let wrong = answers.filter { index, roles in roles != asked[(index * 7) % asked.count].roles }.map(\.0).sorted()
            try expect(wrong, [], "reads answered with another user's roles")
        }),
    ]
}
