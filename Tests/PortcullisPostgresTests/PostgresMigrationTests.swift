import PortcullisPostgres
import Testing

@Suite struct PostgresMigrationListTests {
    @Test func migrationIDsAreUniqueAndEveryStatementIsSplitOut() {
        let ids = PostgresMigrations.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(PostgresMigrations.all.allSatisfy { $0.checksum.count == 64 })
    }
}
