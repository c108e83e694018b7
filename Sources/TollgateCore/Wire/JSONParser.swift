/// Why a document is not valid JSON.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unexpectedEnd = "unexpected_end"
        case unexpectedCharacter = "unexpected_character"
        case invalidNumber = "invalid_number"
        case invalidEscape = "invalid_escape"
        case tooDeep = "too_deep"
        case trailingCharacters = "trailing_characters"
        /// A top-level key repeated in a request body (see `RequestBody`).
        case duplicateKey = "duplicate_key"
        /// A request body that is valid JSON but not an object.
        case notAnObject = "not_an_object"
    }

    public var code: Code
    public var offset: Int
    /// The repeated key, for `duplicateKey`.
    public var key: String?
    public var description: String { "\(code.rawValue) at byte \(offset)" }

    public init(code: Code, offset: Int, key: String? = nil) {
        self.code = code
        self.offset = offset
        self.key = key
    }
}

/// A strict RFC 8259 parser from UTF-8 bytes to `JSONValue`.
///
/// Hand-written because decoding an untyped JSON value through `JSONDecoder` tries each type in
/// turn and builds a `DecodingError` for every miss, which made parsing the inference log's
/// documents the pipeline's bottleneck; typed bodies still go through `JSONDecoder`.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    static let maxDepth = 512

    static func parse(_ input: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        // Native strings and arrays are read in place; anything else is copied once.
        let result = input.withContiguousStorageIfAvailable(parse(buffer:)) ?? Array(input).withUnsafeBufferPointer(parse(buffer:))
        return try result.get()
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
        var parser = JSONParser(bytes: buffer)
        do throws(JSONParseError) {
            parser.skipWhitespace()
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw JSONParseError(code: .trailingCharacters, offset: parser.index) }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The byte at `index`, or nil at the end (a truncated document).
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func fail(_ code: JSONParseError.Code) -> JSONParseError {
        JSONParseError(code: index >= bytes.count ? .unexpectedEnd : code, offset: index)
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < Self.maxDepth else { throw fail(.tooDeep) }
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return try number()
        }
    }

    mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail(.unexpectedEnd) }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw fail(.unexpectedCharacter)
        }
        index += count
        return value
    }

    private mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        var object = JSONObject(capacity: 8)
        try members { parser, key throws(JSONParseError) in object[key] = try parser.value(depth: depth + 1) }
        return .object(object)
    }

    private mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        var items: [JSONValue] = []
        items.reserveCapacity(4)
        try elements { parser throws(JSONParseError) in items.append(try parser.value(depth: depth + 1)) }
        return .array(items)
    }

    mutating func string() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        skipPlainStringBytes()
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail(.unexpectedCharacter) }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                if let byte = try escape() {
                    scalars.append(byte)
                } else {
                    scalars.append(contentsOf: try unicodeEscape())
                }
            case 0..<0x20:
                throw fail(.unexpectedCharacter)
            default:
                scalars.append(byte)
                index += 1
            }
        }
        throw fail(.unexpectedEnd)
    }

    /// Consumes the escape after a backslash: the byte a one-letter escape stands for, or nil
    /// for `\u` (with `index` at its hex digits).
    mutating func escape() throws(JSONParseError) -> UInt8? {
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return letter
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"): return nil
        default: throw fail(.invalidEscape)
        }
    }

    /// Moves `index` over string bytes that need no attention (no quote, backslash or control
    /// character), eight at a time: prompts and replies are long runs of plain text.
    mutating func skipPlainStringBytes() {
        guard let base = bytes.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // Per byte, the high bit is set where the byte is zero (after the XOR) or below 0x20.
            let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            if found & (ones &* 0x80) != 0 { return }
            index += 8
        }
    }

    /// `\uXXXX` (after the `u`), joining surrogate pairs; returns the UTF-8 bytes.
    private mutating func unicodeEscape() throws(JSONParseError) -> [UInt8] {
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
            index += 2
            let low = try hex4()
            if (0xDC00..<0xE000).contains(low) {
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
        }
        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
        return Array(String(Character(scalar)).utf8)
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail(.invalidEscape)
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw fail(.unexpectedCharacter) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw fail(.invalidNumber) }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw fail(.invalidNumber) }
        }
        // The literal is kept as written: integers stay exact and out-of-range values stay valid JSON.
        return .number(JSONNumber(validatedText: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)))
    }
}
