import TollgateCore

/// What structured-output and sampling clients ask of a model, played by the simulator:
/// `response_format` (`json_schema`: an instance valid for the schema; `json_object`: a JSON
/// object), `logprobs` with `top_logprobs`, and `n` choices.
enum SimulatedStructure {
    /// The JSON answer `response_format` asks for, or nil for plain text.
    static func answer(format: JSONValue?, text: String) -> String? {
        switch format?["type"]?.stringValue {
        case "json_schema":
            let schema = format?["json_schema"]?["schema"] ?? ["type": "object"]
            return SchemaInstance(root: schema).value(of: schema, depth: 0).jsonText
        case "json_object":
            return JSONValue.object(["answer": .string(text)]).jsonText
        default:
            return nil
        }
    }

    /// A JSON text in stream-sized pieces (the first without a leading space, as words are).
    static func pieces(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if current.count >= 8 {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// `logprobs.content` for `tokens`, each with `top` alternatives; deterministic values.
    static func logprobs(_ tokens: [String], top: Int) -> JSONValue {
        let content: [JSONValue] = tokens.enumerated().map { index, token in
            let logprob = -0.01 * Double(index % 7 + 1)
            let alternatives: [JSONValue] = (0..<top).map { rank in
                let alternative = rank == 0 ? token : token + String(repeating: "~", count: rank)
                return entry(alternative, logprob: rank == 0 ? logprob : logprob - Double(rank))
            }
            var object = entry(token, logprob: logprob).objectValue ?? JSONObject()
            object["top_logprobs"] = .array(alternatives)
            return .object(object)
        }
        return ["content": .array(content), "refusal": nil]
    }

    private static func entry(_ token: String, logprob: Double) -> JSONValue {
        ["token": .string(token), "logprob": .double(logprob), "bytes": .array(token.utf8.map { .int(Int($0)) })]
    }
}

/// Builds a value valid for a JSON Schema: the subset structured-output clients send (objects
/// with properties and `required`, arrays, enums, consts, `anyOf`/`oneOf`, `$ref` into `$defs`,
/// nullable type lists).
struct SchemaInstance {
    let root: JSONValue

    func value(of schema: JSONValue, depth: Int) -> JSONValue {
        guard depth < 16 else { return .null }
        if let reference = schema["$ref"]?.stringValue { return value(of: resolve(reference), depth: depth + 1) }
        if let constant = schema["const"] { return constant }
        if let first = schema["enum"]?.arrayValue?.first { return first }
        if let first = (schema["anyOf"] ?? schema["oneOf"])?.arrayValue?.first(where: { $0["type"]?.stringValue != "null" }) {
            return value(of: first, depth: depth + 1)
        }
        if let all = schema["allOf"]?.arrayValue, let first = all.first { return value(of: first, depth: depth + 1) }
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.compactMap(\.stringValue).first { $0 != "null" }
            ?? (schema["properties"] != nil ? "object" : "string")
        switch type {
        case "object":
            var object = JSONObject()
            for (name, property) in (schema["properties"]?.objectValue ?? JSONObject()).pairs {
                object[name] = value(of: property, depth: depth + 1)
            }
            return .object(object)
        case "array":
            let count = max(1, schema["minItems"]?.intValue ?? 1)
            return .array(Array(repeating: value(of: schema["items"] ?? ["type": "string"], depth: depth + 1), count: min(count, 8)))
        case "integer":
            return .int(max(schema["minimum"]?.intValue ?? 1, 1))
        case "number":
            return .double(schema["minimum"]?.doubleValue ?? 1.5)
        case "boolean":
            return true
        case "null":
            return .null
        default:
            let minimum = schema["minLength"]?.intValue ?? 0
            let text = "simulated"
            return .string(text.count >= minimum ? text : text + String(repeating: "x", count: minimum - text.count))
        }
    }

    /// `#/$defs/Name` (or `#/definitions/Name`) inside the root schema.
    private func resolve(_ reference: String) -> JSONValue {
        var node = root
        for part in reference.split(separator: "/").dropFirst() { node = node[String(part)] ?? .null }
        return node
    }
}
