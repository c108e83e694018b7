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
