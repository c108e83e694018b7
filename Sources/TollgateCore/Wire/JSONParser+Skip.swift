/// Walking a document: objects and arrays member by member (what `parse` builds its values
/// with), and skipping values — checked exactly as `parse` checks them — so that only the parts
/// asked for become `String`s or `JSONValue`s.
extension JSONParser {
    /// Skips one value, failing wherever `value(depth:)` would fail.
    mutating func skip(depth: Int) throws(JSONParseError) {
        guard depth < Self.maxDepth else { throw fail(.tooDeep) }
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        switch bytes[index] {
        case UInt8(ascii: "{"): try members { parser, _ throws(JSONParseError) in try parser.skip(depth: depth + 1) }
        case UInt8(ascii: "["): try elements { parser throws(JSONParseError) in try parser.skip(depth: depth + 1) }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): _ = try literal("true", .null)
        case UInt8(ascii: "f"): _ = try literal("false", .null)
        case UInt8(ascii: "n"): _ = try literal("null", .null)
        default: _ = try number()
        }
    }

    /// Walks the object at `index`: `visit` gets each key, with `index` at its value, and must
    /// consume the value.
    mutating func members(_ visit: (inout JSONParser, String) throws(JSONParseError) -> Void) throws(JSONParseError) {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail(.unexpectedCharacter) }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail(.unexpectedCharacter) }
            index += 1
            skipWhitespace()
            try visit(&self, key)
            guard try next(closing: UInt8(ascii: "}")) else { return }
        }
    }

    /// Walks the array at `index`: `visit` must consume each element.
    mutating func elements(_ visit: (inout JSONParser) throws(JSONParseError) -> Void) throws(JSONParseError) {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try visit(&self)
            guard try next(closing: UInt8(ascii: "]")) else { return }
        }
    }

    /// After a member or element: `true` past a comma, `false` past the closing bracket.
    mutating func next(closing: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        switch bytes[index] {
        case UInt8(ascii: ","):
            index += 1
            return true
        case closing:
            index += 1
            return false
        default:
            throw fail(.unexpectedCharacter)
        }
    }

    private mutating func skipString() throws(JSONParseError) {
        index += 1
        while true {
            skipPlainStringBytes()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                index += 1
                if try escape() == nil { _ = try hex4() }
            case 0..<0x20:
                throw fail(.unexpectedCharacter)
            default:
                index += 1
            }
        }
    }
}

/// What a request preview is made of (see `TracePreview.request`).
enum RequestPreviewSource {
    /// `input` given as a string.
    case input(String)
    /// The `content` of the last `role: "user"` item (`nil` when it has none).
    case userContent(JSONValue?)
    /// No user message.
    case none

    /// Reads a chat (`messages`) or Responses (`input`) body, building only the message shown.
    /// Throws when the body is not valid JSON, exactly when `JSONValue.parse` would.
    static func read(_ body: String) throws(JSONParseError) -> RequestPreviewSource {
        var body = body
        let result = body.withUTF8 { buffer -> Result<RequestPreviewSource, JSONParseError> in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONParseError) {
                return .success(try parser.requestPreviewSource())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension JSONParser {
    fileprivate mutating func requestPreviewSource() throws(JSONParseError) -> RequestPreviewSource {
        // First pass: check the whole document and note where `input` and `messages` are (the
        // last of duplicate keys wins, as in `parse`).
        var input: Int?
        var messages: Int?
        skipWhitespace()
        let isObject = index < bytes.count && bytes[index] == UInt8(ascii: "{")
        if isObject {
            try members { parser, key throws(JSONParseError) in
                if key == "input" { input = parser.index } else if key == "messages" { messages = parser.index }
                try parser.skip(depth: 1)
            }
        } else {
            try skip(depth: 0)
        }
        skipWhitespace()
        guard index == bytes.count else { throw JSONParseError(code: .trailingCharacters, offset: index) }

        if let input, bytes[input] == UInt8(ascii: "\"") {
            index = input
            return .input(try string())
        }
        guard let list = [messages, input].compactMap({ $0 }).first(where: { bytes[$0] == UInt8(ascii: "[") }) else { return .none }
        // Second pass over the list, already checked: the last user item and its content.
        var lastUser: Int?? = nil
        index = list
        try elements { parser throws(JSONParseError) in
            guard parser.bytes[parser.index] == UInt8(ascii: "{") else { return try parser.skip(depth: 2) }
            var role: String?
            var content: Int?
            try parser.members { parser, key throws(JSONParseError) in
                if key == "role", parser.bytes[parser.index] == UInt8(ascii: "\"") {
                    role = try parser.string()
                    return
                }
                if key == "role" { role = nil } else if key == "content" { content = parser.index }
                try parser.skip(depth: 3)
            }
            if role == "user" { lastUser = .some(content) }
        }
        guard let user = lastUser else { return .none }
        guard let content = user else { return .userContent(nil) }
        index = content
        return .userContent(try value(depth: 3))
    }
}
