import Testing
@testable import TollgateServer

@Suite("API keys")
struct APIKeysTests {
    @Test func theLookupDigestIsTheStoredHash() {
        let (key, stored) = APIKeys.issue(owner: "alice@example.com", groups: [], servicePrincipal: false, description: nil, expiresAt: nil)
        #expect(KeyDigest(hex: stored.hash) == APIKeys.digest(key))
        #expect(KeyDigest(hex: APIKeys.hash(key + "x")) != APIKeys.digest(key))
    }

    @Test func aStoredHashThatIsNotSHA256HexMatchesNothing() {
        let hash = APIKeys.hash("tg-example")
        #expect(KeyDigest(hex: hash) != nil)
        #expect(KeyDigest(hex: String(hash.dropLast())) == nil)
        #expect(KeyDigest(hex: hash + "0") == nil)
        #expect(KeyDigest(hex: String(hash.dropLast(2)) + "zz") == nil)
        #expect(KeyDigest(hex: "") == nil)
    }
}
