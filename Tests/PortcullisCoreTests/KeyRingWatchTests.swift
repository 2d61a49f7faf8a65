import Foundation
@testable import PortcullisCore
import Testing

@Suite struct KeyRingWatchTests {
    #if os(Linux)
    /// A write is one change however many events it queued; then quiet; removing the directory breaks the watch for good.
    @Test func aWatchReportsEachChangeOnceAndABrokenWatchStaysBroken() throws {
        let path = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let changes = try #require(DirectoryChanges.watch(path))
        #expect(changes.look() == .unchanged)
        try Data("x".utf8).write(to: URL(fileURLWithPath: path + "/a"), options: .atomic)
        #expect(changes.look() == .changed)
        #expect(changes.look() == .unchanged, "the events were read")
        try FileManager.default.removeItem(atPath: path)
        #expect(changes.look() == .broken)
        #expect(DirectoryChanges.watch(path) == nil, "no directory, no watch")
    }

    /// Events queued past one read's buffer (20 files with 200-character names: about 5 KiB of
    /// events against 1 KiB) are all read by one look.
    @Test func oneLookReadsEveryQueuedEventWhateverTheirSize() throws {
        let path = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let changes = try #require(DirectoryChanges.watch(path))
        for index in 0..<20 {
            let name = String(format: "%03d", index) + String(repeating: "n", count: 197)
            FileManager.default.createFile(atPath: path + "/" + name, contents: Data("x".utf8))
        }
        #expect(changes.look() == .changed)
        #expect(changes.look() == .unchanged, "nothing left queued")
    }

    /// The clock never moves here, so the once-a-second `stat` never comes: after the keys
    /// directory is swapped for another (the watch now follows the old one), only noticing
    /// that the watch broke makes the provider see a rotation in the new directory.
    @Test func aRotationInADirectorySwappedInIsSeenAtTheNextCall() throws {
        let harness = try ReloadHarness()
        #expect(harness.signingKID(at: 0) == harness.rotatedKID, "a rotation in the watched directory")
        let path = harness.directory.path
        try FileManager.default.moveItem(atPath: path, toPath: path + ".old")
        try FileManager.default.copyItem(atPath: path + ".old", toPath: path)
        let newest = try KeyDirectory(path: path).rotate(.edDSA).kid
        #expect(harness.signingKID(at: 0) == newest)
        #expect(harness.signingKID(at: 0) == newest)
    }

    /// A change the watch cannot see (made through a hard link from another directory, as a
    /// network file system's remote writes are not seen either) is picked up by the `stat` made
    /// at least once a second; and between two such `stat`s the manifest is not `stat`ed at all.
    @Test func aChangeTheWatchCannotSeeIsPickedUpWithinASecond() throws {
        let harness = try ReloadHarness()
        let path = harness.directory.path
        let elsewhere = temporaryDirectory()
        try FileManager.default.copyItem(atPath: path, toPath: elsewhere)
        let newest = try KeyDirectory(path: elsewhere).rotate(.edDSA).kid
        let newManifest = try Data(contentsOf: URL(fileURLWithPath: elsewhere + "/keys.json"))
        try FileManager.default.copyItem(atPath: elsewhere + "/\(newest).pem", toPath: path + "/\(newest).pem")
        let alias = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: alias, withIntermediateDirectories: true)
        #expect(link(harness.manifestPath, alias + "/keys.json") == 0)
        #expect(harness.signingKID(at: 0) == harness.rotatedKID, "the watch's events so far read, the manifest stated")

        let handle = try #require(FileHandle(forWritingAtPath: alias + "/keys.json"))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: newManifest)
        try handle.close()
        #expect(harness.signingKID(at: 0.5) == harness.rotatedKID, "no event, and no stat within the second")
        #expect(harness.signingKID(at: 1.5) == newest, "the second is up: stated, changed, loaded")
    }
    #endif
}
