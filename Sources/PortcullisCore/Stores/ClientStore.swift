/// Registered OAuth clients.
public protocol ClientStore: Sendable {
    /// Registers a client; `conflict` if the id exists.
    func createClient(_ client: OAuthClient) async throws
    /// A client by id.
    func client(id: String) async throws -> OAuthClient?
    /// `client(id:)` answered on the calling thread without waiting on I/O, or `.mustWait`.
    func clientImmediately(id: String) throws -> Immediate<OAuthClient?>
    /// Every client, by id.
    func allClients() async throws -> [OAuthClient]
    /// Deletes a client with its codes, consents and token families; false if absent.
    func deleteClient(id: String) async throws -> Bool
}
