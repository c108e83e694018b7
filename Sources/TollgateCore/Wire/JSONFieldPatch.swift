/// Adds a member to a JSON object's text without decoding and re-encoding the whole document
/// (`databricks_output` on an answer relayed byte for byte).
public enum JSONFieldPatch {
    /// `text` (a JSON object) with `key: value` appended as its last member; nil when `text` is
    /// not an object.
    public static func appendingMember(_ key: String, _ value: JSONValue, to text: String) -> String? {
        let trimmed = text.trimmingSuffix(while: \.isWhitespace).drop(while: \.isWhitespace)
        guard trimmed.first == "{", trimmed.last == "}" else { return nil }
        let body = trimmed.dropLast()
        let isEmpty = body.dropFirst().allSatisfy(\.isWhitespace)
        return body + (isEmpty ? "" : ",") + JSONValue.quoted(key) + ":" + value.jsonText + "}"
    }
}

extension StringProtocol {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> SubSequence {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
