import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ids and timestamps the gateway assigns.
public enum Identifiers {
    /// A new lowercase UUID (the `request_id`): version 7, time-ordered, so that rows land at
    /// the end of the store's key indexes instead of on a random page each (random keys made
    /// every request dirty pages all over the indexes, and checkpoints copy every one of them).
    public static func requestID() -> String {
        var random = SystemRandomNumberGenerator()
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let a = random.next() as UInt64
        let b = random.next() as UInt64
        func byte(_ value: UInt64, _ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: value >> shift) }
        let uuid = UUID(uuid: (
            byte(millis, 40), byte(millis, 32), byte(millis, 24), byte(millis, 16), byte(millis, 8), byte(millis, 0),
            0x70 | (byte(a, 0) & 0x0F), byte(a, 8),
            0x80 | (byte(b, 0) & 0x3F), byte(b, 8), byte(b, 16), byte(b, 24), byte(b, 32), byte(b, 40), byte(b, 48), byte(b, 56)
        ))
        return uuid.uuidString.lowercased()
    }

    /// `prefix` + 32 hex characters (`chatcmpl-…`, `resp_…`).
    public static func hex(prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// UTC formatting for `request_time` (`2026-01-02T03:04:05.678Z`) and `request_date`.
public enum UTCTimestamp {
    public static func iso8601(_ date: Date) -> String {
        // Formatted by hand: `ISO8601FormatStyle` costs microseconds per call, and the record
        // writer formats every row.
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let millis = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    public static func day(_ date: Date) -> String {
        String(iso8601(date).prefix(10))
    }

    /// Reads what `iso8601` wrote (`YYYY-MM-DDTHH:MM:SS[.mmm]Z`).
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int32? {
            guard start + count <= bytes.count else { return nil }
            var value: Int32 = 0
            for byte in bytes[start..<(start + count)] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard bytes.count >= 19, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let millis = bytes.count >= 23 && bytes[19] == UInt8(ascii: ".") ? number(20, 3) ?? 0 : 0
        return Date(timeIntervalSince1970: Double(timegm(&parts)) + Double(millis) / 1000)
    }
}
