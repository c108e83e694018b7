import Foundation

/// Ids and timestamps the gateway assigns.
public enum Identifiers {
    /// A new lowercase UUID (the `request_id`).
    public static func requestID() -> String { UUID().uuidString.lowercased() }

    /// `prefix` + 32 hex characters (`chatcmpl-…`, `resp_…`).
    public static func hex(prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// UTC formatting for `request_time` (`2026-01-02T03:04:05.678Z`) and `request_date`.
public enum UTCTimestamp {
    public static func iso8601(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public static func day(_ date: Date) -> String {
        String(iso8601(date).prefix(10))
    }
}
