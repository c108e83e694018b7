import Crypto
import Foundation
import TollgateCore
import TollgateStore

/// Tollgate keys: `tg-` and 32 URL-safe characters from 24 random bytes (192 bits). The store
/// keeps their SHA-256: a key is random, not a password, so a fast hash cannot be guessed back
/// and keeps the per-request check to a microsecond.
public enum APIKeys {
    public static let prefix = "tg-"

    /// A new key and the row that stores its hash.
    public static func issue(
        owner: String, groups: [String], servicePrincipal: Bool, description: String?, expiresAt: Date?, now: Date = Date()
    ) -> (key: String, stored: StoredKey) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = prefix + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let stored = StoredKey(
            keyID: String(Identifiers.hex(prefix: "key_").prefix(16)), prefix: String(key.prefix(10)), hash: hash(key), owner: owner,
            groups: groups, servicePrincipal: servicePrincipal, description: description, createdAt: now, expiresAt: expiresAt
        )
        return (key, stored)
    }

    /// Hex SHA-256 of a presented key.
    public static func hash(_ key: String) -> String {
        // By hand: `String(format:)` costs microseconds per byte, on every request.
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(key.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// The SHA-256 of a presented key as a fixed-size value: what the request path looks keys up
    /// by, with no hex string or buffer built per request.
    public static func digest(_ key: String) -> KeyDigest {
        var hasher = SHA256()
        var key = key
        key.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes { KeyDigest(bytes: $0) }
    }

    /// `30d`, `12h`, `90m`, `3600s` (or a bare number of days) as seconds; nil when malformed or out of range.
    public static func duration(_ text: String) -> TimeInterval? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var digits = Substring(text)
        var unit = 86_400
        if let last = text.last, let seconds = units[last] {
            unit = seconds
            digits = text.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let count = Int(digits), count > 0, count <= 36_500 * 86_400 / unit else {
            return nil
        }
        return TimeInterval(count * unit)
    }
}

/// A key's SHA-256 as four words, hashable without building a string.
public struct KeyDigest: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        words = (
            bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        )
    }

    /// The digest of a stored hex hash; nil when it is not 64 hex digits.
    init?(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var high: UInt8?
        for character in hex.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        guard bytes.count == 32, high == nil else { return nil }
        self = bytes.withUnsafeBytes { KeyDigest(bytes: $0) }
    }

    public static func == (lhs: KeyDigest, rhs: KeyDigest) -> Bool { lhs.words == rhs.words }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
