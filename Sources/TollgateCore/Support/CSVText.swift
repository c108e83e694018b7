/// RFC 4180 fields for the CSV the commands print.
public enum CSVText {
    /// `text` quoted when it holds a comma, a quote, or a line break of any kind (`\n`, `\r`,
    /// and `\r\n`, which Swift reads as one `Character`, so the test is on scalars).
    public static func field(_ text: String) -> String {
        let needsQuotes = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
