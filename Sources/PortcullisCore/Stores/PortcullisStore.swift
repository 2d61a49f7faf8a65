/// Everything Portcullis stores, as one value to pass around; services take only the parts they use.
///
/// Every backend passes the shared suite in `PortcullisStoreConformance`.
public protocol PortcullisStore: UserStore, RoleGrantStore, SessionStore, AccountLockoutStore, AddressThrottleStore, AuditStore, MFAStore,
    PasskeyStore, DecisionLogStore, ClientStore, AuthorizationCodeStore, ConsentStore, BrowserSessionStore, ExpiredRowStore, SchemaStatusStore {
    /// True when the database answers a trivial query.
    func isHealthy() async -> Bool
}
