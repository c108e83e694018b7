import Foundation

extension JSONValue {
    /// Parses a JSON document; throws `JSONParseError` on malformed input.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSONValue {
        try JSONParser.parse(bytes)
    }

    /// Parses a JSON document held in a string.
    public static func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.utf8)
    }

    /// Compact JSON text, keys in insertion order, slashes unescaped.
    public var jsonText: String {
        var out = ""
        out.reserveCapacity(64)
        write(to: &out)
        return out
    }

    /// Compact JSON as UTF-8 bytes.
    public var jsonBytes: [UInt8] { Array(jsonText.utf8) }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .number(let value): out += value.text
        case .string(let value): JSONValue.writeEscaped(value, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            var first = true
            for (key, value) in object.pairs {
                if !first { out += "," }
                first = false
                JSONValue.writeEscaped(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Writes `text` as a JSON string literal. Runs that need no escaping are copied whole.
    public static func writeEscaped(_ text: String, to out: inout String) {
        out += "\""
        let utf8 = text.utf8
        var runStart = utf8.startIndex
        var index = runStart
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index = utf8.index(after: index)
                continue
            }
            if runStart != index { out += text[runStart..<index] }
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\t"): out += "\\t"
            default: out += "\\u00" + String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
            }
            index = utf8.index(after: index)
            runStart = index
        }
        if runStart != utf8.endIndex { out += text[runStart...] }
        out += "\""
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var out = ""
        writeEscaped(text, to: &out)
        return out
    }
}

extension JSONValue {
    /// `value` as encoded by `JSONEncoder` (null if it cannot be encoded).
    public static func encoded(_ value: some Encodable) -> JSONValue {
        guard let data = try? JSONEncoder().encode(value), let parsed = try? JSONValue.parse(Array(data)) else { return .null }
        return parsed
    }
}
