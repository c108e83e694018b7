/// Finds a JSON object inside a message string: the whole string, the part from the first `{`
/// (`"Error code: 400 - {...}"`), or a Python dict repr (`{'error': {'code': 'content_filter'}}`).
public enum EmbeddedJSON {
    public static func extract(from message: String) -> JSONValue? {
        if let whole = try? JSONValue.parse(message), whole.objectValue != nil { return whole }
        guard let start = message.firstIndex(of: "{"), let end = message.lastIndex(of: "}") , start < end else { return nil }
        let candidate = String(message[start...end])
        if let json = try? JSONValue.parse(candidate), json.objectValue != nil { return json }
        return try? JSONValue.parse(pythonLiteralToJSON(candidate))
    }

    /// Rewrites a Python literal (single quotes, True/False/None) as JSON.
    public static func pythonLiteralToJSON(_ text: String) -> String {
        var out = ""
        var quote: Character?
        var escaped = false
        var word = ""
        func flushWord() {
            switch word {
            case "True": out += "true"
            case "False": out += "false"
            case "None": out += "null"
            default: out += word
            }
            word = ""
        }
        for character in text {
            if let open = quote {
                if escaped {
                    out.append(character == "'" ? "'" : "\\")
                    if character != "'" { out.append(character) }
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == open {
                    out.append("\"")
                    quote = nil
                } else if character == "\"" {
                    out += "\\\""
                } else {
                    out.append(character)
                }
                continue
            }
            if character == "'" || character == "\"" {
                flushWord()
                quote = character
                out.append("\"")
            } else if character.isLetter {
                word.append(character)
            } else {
                flushWord()
                out.append(character)
            }
        }
        flushWord()
        return out
    }
}
