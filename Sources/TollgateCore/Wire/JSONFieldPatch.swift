/// Replaces one top-level string member of a JSON object in place, without decoding and
/// re-encoding the whole body (the request body is relayed byte for byte except for `model`).
public enum JSONFieldPatch {
    /// Returns `bytes` with the top-level member `key` set to the string `value` (added at the
    /// front when absent), or `nil` when `bytes` is not a JSON object.
    public static func settingString(_ key: String, to value: String, in bytes: [UInt8]) -> [UInt8]? {
        var index = skipWhitespace(bytes, 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        let replacement = Array(JSONValue.quoted(value).utf8)
        let wanted = Array(key.utf8)
        index += 1
        while true {
            index = skipWhitespace(bytes, index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { break }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = endOfString(bytes, index) else { return nil }
            let isWanted = bytes[(index + 1)..<(keyEnd - 1)].elementsEqual(wanted)
            index = skipWhitespace(bytes, keyEnd)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipWhitespace(bytes, index + 1)
            guard let valueEnd = endOfValue(bytes, valueStart) else { return nil }
            if isWanted {
                return Array(bytes[..<valueStart]) + replacement + Array(bytes[valueEnd...])
            }
            index = valueEnd
        }
        let open = skipWhitespace(bytes, 0)
        let isEmpty = skipWhitespace(bytes, open + 1) < bytes.count && bytes[skipWhitespace(bytes, open + 1)] == UInt8(ascii: "}")
        let member = Array(JSONValue.quoted(key).utf8) + [UInt8(ascii: ":")] + replacement + (isEmpty ? [] : [UInt8(ascii: ",")])
        return Array(bytes[...open]) + member + Array(bytes[(open + 1)...])
    }

    /// `text` (a JSON object) with one more member at its end, written without re-encoding the
    /// rest; `nil` when `text` does not end an object.
    public static func appendingMember(_ key: String, _ value: JSONValue, to text: String) -> String? {
        let trimmed = text.trimmingSuffix(while: \.isWhitespace).drop(while: \.isWhitespace)
        guard trimmed.first == "{", trimmed.last == "}" else { return nil }
        let body = trimmed.dropLast()
        let isEmpty = body.dropFirst().allSatisfy(\.isWhitespace)
        return body + (isEmpty ? "" : ",") + JSONValue.quoted(key) + ":" + value.jsonText + "}"
    }

    private static func skipWhitespace(_ bytes: [UInt8], _ start: Int) -> Int {
        var index = start
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index
    }

    /// Index just past the closing quote of the string starting at `start`.
    private static func endOfString(_ bytes: [UInt8], _ start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    /// Index just past the value starting at `start` (string, object, array or literal).
    private static func endOfValue(_ bytes: [UInt8], _ start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return endOfString(bytes, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = endOfString(bytes, index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default: break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) {
                index += 1
            }
            return index
        }
    }
}

extension StringProtocol {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> SubSequence {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
