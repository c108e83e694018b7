/// The top level of a client's request body, walked once: each member's decoded key and the
/// byte range of its value, with duplicate keys refused, so that routing and the upstream body
/// can never read two different values of one key (`{"model":"a","mod\u0065l":"b"}`).
public struct RequestMembers: Sendable {
    /// A top-level member: its key as decoded (escapes resolved) and where it lies in the body.
    public struct Member: Sendable {
        public let key: String
        /// From the key's opening quote to the end of the value.
        let whole: Range<Int>
    }

    /// How `messages` is shaped, read without building the messages: the role of each item
    /// (`nil` where the item is not an object or its role is missing or not a string).
    public enum MessagesShape: Sendable, Equatable {
        case array(roles: [String?])
        case notArray
    }

    public let bytes: [UInt8]
    public let members: [Member]
    /// Parsed values of the members asked for (all of them with `parseAll`), in body order.
    public let values: JSONObject
    /// The shape of `messages`, when the body has that member.
    public let messages: MessagesShape?

    /// Walks `bytes`: throws when it is not one valid JSON object or repeats a top-level key.
    /// Members named in `parsing` (every member when `parseAll`) are parsed into `values`; the
    /// rest are checked and skipped.
    public static func scan(_ bytes: [UInt8], parsing: Set<String> = [], parseAll: Bool = false) throws(TranslationError) -> RequestMembers {
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<RequestMembers, TranslationError> in
            var parser = JSONParser(bytes: buffer)
            do throws(TranslationError) {
                let (members, values, messages) = try parser.requestMembers(parsing: parsing, parseAll: parseAll)
                return .success(RequestMembers(bytes: bytes, members: members, values: values, messages: messages))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public func contains(_ key: String) -> Bool { members.contains { $0.key == key } }

    /// The body with exactly one `key` member, set to the string `value` and written first; every
    /// other member is copied byte for byte (numbers, escapes and spacing as the client sent them).
    public func settingOnly(_ key: String, to value: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + value.utf8.count + key.utf8.count + 6)
        out.append(UInt8(ascii: "{"))
        out.append(contentsOf: JSONValue.quoted(key).utf8)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: JSONValue.quoted(value).utf8)
        for member in members where member.key != key {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: bytes[member.whole])
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension JSONParser {
    fileprivate mutating func requestMembers(
        parsing: Set<String>, parseAll: Bool
    ) throws(TranslationError) -> ([RequestMembers.Member], JSONObject, RequestMembers.MessagesShape?) {
        var members: [RequestMembers.Member] = []
        var values = JSONObject(capacity: parseAll ? 8 : parsing.count)
        var messages: RequestMembers.MessagesShape?
        // Keys seen so far: a set, so a body of a million keys costs a million lookups, not n².
        var seen: Set<String> = []
        do throws(JSONParseError) {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
                throw JSONParseError(code: .notAnObject, offset: index)
            }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail(.unexpectedCharacter) }
                    let keyStart = index
                    let key = try string()
                    guard seen.insert(key).inserted else { throw JSONParseError(code: .duplicateKey, offset: keyStart, key: key) }
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail(.unexpectedCharacter) }
                    index += 1
                    skipWhitespace()
                    if key == "messages" && !parseAll {
                        messages = try messagesShape()
                    } else if parseAll || parsing.contains(key) {
                        let value = try value(depth: 1)
                        if key == "messages" { messages = Self.messagesShape(of: value) }
                        values[key] = value
                    } else {
                        try skip(depth: 1)
                    }
                    members.append(RequestMembers.Member(key: key, whole: keyStart..<index))
                    guard try next(closing: UInt8(ascii: "}")) else { break }
                }
            }
            skipWhitespace()
            guard index == bytes.count else { throw JSONParseError(code: .trailingCharacters, offset: index) }
        } catch where error.code == .duplicateKey {
            let key = error.key ?? ""
            throw TranslationError(message: "The request body repeats the key '\(key)': each top-level key may appear once.", param: key)
        } catch where error.code == .notAnObject {
            throw TranslationError(code: .invalidJSON, message: "The request body is not a JSON object.")
        } catch {
            throw TranslationError(code: .invalidJSON, message: "The request body is not valid JSON (\(error.code.rawValue) at byte \(error.offset)).")
        }
        return (members, values, messages)
    }

    /// Walks the `messages` value, reading only each item's `role`.
    private mutating func messagesShape() throws(JSONParseError) -> RequestMembers.MessagesShape {
        guard peek == UInt8(ascii: "[") else {
            try skip(depth: 1)
            return .notArray
        }
        var roles: [String?] = []
        try elements { parser throws(JSONParseError) in
            guard parser.peek == UInt8(ascii: "{") else {
                roles.append(nil)
                return try parser.skip(depth: 2)
            }
            var role: String?
            try parser.members { parser, key throws(JSONParseError) in
                if key == "role", parser.peek == UInt8(ascii: "\"") {
                    role = try parser.string()
                } else {
                    if key == "role" { role = nil }
                    try parser.skip(depth: 3)
                }
            }
            roles.append(role)
        }
        return .array(roles: roles)
    }

    fileprivate static func messagesShape(of value: JSONValue) -> RequestMembers.MessagesShape {
        guard let items = value.arrayValue else { return .notArray }
        return .array(roles: items.map { $0["role"]?.stringValue })
    }
}
