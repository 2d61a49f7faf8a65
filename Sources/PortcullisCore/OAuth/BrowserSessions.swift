public import Foundation
import PortcullisCrypto

/// Browser login sessions of the pages (the session cookie), stored by hash. They end at logout,
/// after their lifetime, and with the user's credentials (`SessionStore.endSessions`).
public struct BrowserSessions: Sendable {
    /// Browser sessions live this long.
    public static let lifetime: TimeInterval = 12 * 3600

    let auth: AuthService
    let store: any BrowserSessionStore

    /// Sessions in `store`, their users from `auth`'s store.
    public init(auth: AuthService, store: any BrowserSessionStore) {
        self.auth = auth
        self.store = store
    }

    /// Starts a browser session after a login; returns the cookie value.
    public func start(user: User, amr: [String]) async throws -> String {
        let now = auth.clock()
        let cookie = SecureRandom.token()
        try await store.createBrowserSession(BrowserSession(
            idHash: AuthService.hash(cookie), userID: user.id, authTime: now, amr: amr, expiresAt: now.addingTimeInterval(Self.lifetime)))
        return cookie
    }

    /// The live session and its enabled user for a cookie value.
    public func session(cookie: String?) async throws -> (BrowserSession, User)? {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= 256,
              let session = try await store.browserSession(idHash: AuthService.hash(cookie), at: auth.clock()),
              let user = try await auth.store.user(id: session.userID), !user.disabled else { return nil }
        return (session, user)
    }

    /// Ends a browser session.
    public func end(cookie: String?) async throws {
        guard let cookie, !cookie.isEmpty, cookie.utf8.count <= 256 else { return }
        if try await store.deleteBrowserSession(idHash: AuthService.hash(cookie)) {
            try await auth.audit("browser.logout", actor: "user", subject: nil, address: nil, at: auth.clock())
        }
    }
}
