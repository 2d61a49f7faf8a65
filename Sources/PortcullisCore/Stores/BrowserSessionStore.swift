public import Foundation

/// Browser login sessions of the pages, stored by cookie hash.
public protocol BrowserSessionStore: Sendable {
    /// Stores a browser session.
    func createBrowserSession(_ session: BrowserSession) async throws
    /// A live session by cookie hash.
    func browserSession(idHash: String, at: Date) async throws -> BrowserSession?
    /// Ends a session; false if absent.
    func deleteBrowserSession(idHash: String) async throws -> Bool
}
