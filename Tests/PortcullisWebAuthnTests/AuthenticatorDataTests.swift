import PortcullisCrypto
import PortcullisWebAuthn
import Testing

/// Authenticator data: its parts, and flags that must agree with what follows.
@Suite struct AuthenticatorDataTests {
    static let rpIDHash = Digest.sha256("example.org")
    static let aaguid = [UInt8](repeating: 0xAB, count: 16)

    static func header(flags: UInt8, count: UInt32 = 7) -> [UInt8] {
        rpIDHash + [flags] + (0..<4).reversed().map { UInt8(truncatingIfNeeded: count >> ($0 * 8)) }
    }

    static func attested(id: [UInt8] = [1, 2, 3]) throws -> [UInt8] {
        aaguid + [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id + (try W3CVectors.named("packed-eddsa").publicKey)
    }

    @Test func readsEveryPartOfARegistrationsData() throws {
        let extensions = cbor(.map([CBORMapEntry(key: .text("credProtect"), value: .unsigned(2))]))
        let data = try AuthenticatorData(bytes: Self.header(flags: 0x01 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80, count: 0x0102_0304) + Self.attested() + extensions)
        #expect(data.rpIDHash == Self.rpIDHash)
        #expect(data.flags == [.userPresent, .userVerified, .backupEligible, .backedUp, .attestedCredentialData, .extensionData])
        #expect(data.signCount == 0x0102_0304)
        #expect(data.attestedCredentialData?.aaguid == Self.aaguid)
        #expect(data.attestedCredentialData?.credentialID == [1, 2, 3])
        #expect(data.attestedCredentialData?.publicKey.algorithm == .edDSA)
        #expect(data.attestedCredentialData?.publicKey.bytes == (try W3CVectors.named("packed-eddsa").publicKey))
        #expect(data.extensions?["credProtect"]?.integer == 2)
    }

    @Test func anAssertionsDataIsJustTheHeader() throws {
        let data = try AuthenticatorData(bytes: Self.header(flags: 0x05))
        #expect(data.flags == [.userPresent, .userVerified])
        #expect(data.attestedCredentialData == nil)
        #expect(data.extensions == nil)
    }

    @Test func refusesDataShorterThanTheHeader() {
        #expect(refusal { try AuthenticatorData(bytes: Array(Self.header(flags: 1).dropLast())) } == .malformedAuthenticatorData("36 bytes, at least 37 needed"))
    }

    @Test func refusesBackedUpWithoutBackupEligible() {
        #expect(refusal { try AuthenticatorData(bytes: Self.header(flags: 0x11)) }.map(caseName) == "malformedAuthenticatorData")
    }

    @Test func refusesFlagsThatDisagreeWithTheContents() throws {
        // AT without the data, the data without AT, ED without extensions, extensions without ED.
        let extensions = cbor(.map([]))
        for bytes in [Self.header(flags: 0x41), Self.header(flags: 0x01) + (try Self.attested()), Self.header(flags: 0x81),
                      Self.header(flags: 0x01) + extensions, Self.header(flags: 0x41) + (try Self.attested()) + extensions,
                      Self.header(flags: 0x81) + cbor(.array([]))] {
            #expect(refusal { try AuthenticatorData(bytes: bytes) }.map(caseName) == "malformedAuthenticatorData")
        }
    }

    @Test func refusesTrailingBytes() throws {
        #expect(refusal { try AuthenticatorData(bytes: Self.header(flags: 0x01) + [0]) }
            == .malformedAuthenticatorData("1 bytes follow the last part its flags announce"))
        #expect(refusal { try AuthenticatorData(bytes: Self.header(flags: 0x41) + (try Self.attested()) + [0]) }.map(caseName) == "malformedAuthenticatorData")
    }

    @Test func refusesCredentialIDsOutsideOneTo1023Bytes() throws {
        #expect(throws: Never.self) { try AuthenticatorData(bytes: Self.header(flags: 0x41) + (try Self.attested(id: .init(repeating: 7, count: 1023)))) }
        for id in [[UInt8](), [UInt8](repeating: 7, count: 1024)] {
            #expect(refusal { try AuthenticatorData(bytes: Self.header(flags: 0x41) + (try Self.attested(id: id))) }.map(caseName) == "malformedAuthenticatorData")
        }
        // A length that runs past the end.
        #expect(refusal { try AuthenticatorData(bytes: Self.header(flags: 0x41) + Self.aaguid + [0x03, 0xFF, 1, 2]) }
            == .malformedAuthenticatorData("credential id runs past the end"))
    }

    @Test func aBrokenCredentialKeyIsAKeyError() throws {
        let truncated = Array(try Self.attested().dropLast())
        #expect(refusal { try AuthenticatorData(bytes: Self.header(flags: 0x41) + truncated) }.map(caseName) == "malformedPublicKey")
    }
}
