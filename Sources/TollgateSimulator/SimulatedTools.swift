import Foundation
import TollgateCore

/// How the simulator plays a model that uses tools: when the last message is the user's and it
/// names one of the offered function tools, it calls that tool; when the last message is a tool
/// result, it answers with that result.
enum SimulatedTools {
    /// `tool_choice` is honoured: `none` calls nothing, `required` calls the tool the prompt
    /// names or else the first, `{"type": "function", "function": {"name": …}}` calls that one.
    static func call(for request: JSONValue, prompt: String) -> (name: String, arguments: String)? {
        guard let tools = request["tools"]?.arrayValue, !tools.isEmpty,
              request["messages"]?.arrayValue?.last?["role"]?.stringValue == "user"
        else { return nil }
        let choice = request["tool_choice"]
        if choice?.stringValue == "none" { return nil }
        let named = choice?["function"]?["name"]?.stringValue
        let pick = tools.first { tool in
            guard let name = tool["function"]?["name"]?.stringValue else { return false }
            return named.map { $0 == name } ?? prompt.contains(name)
        } ?? (choice?.stringValue == "required" ? tools.first : nil)
        guard let tool = pick, let name = tool["function"]?["name"]?.stringValue else { return nil }
        return (name, arguments(for: tool["function"]?["parameters"], prompt: prompt).jsonText)
    }

    /// Arguments from the prompt: strings take its last word, numbers its numbers in order.
    static func arguments(for schema: JSONValue?, prompt: String) -> JSONValue {
        let words = prompt.split(whereSeparator: \.isWhitespace).map { $0.trimmingCharacters(in: .punctuationCharacters) }
        var numbers = words.compactMap(Double.init).makeIterator()
        var object = JSONObject()
        let properties = schema?["properties"]?.objectValue ?? JSONObject()
        for (name, property) in properties.pairs {
            switch property["type"]?.stringValue {
            case "number", "integer": object[name] = .double(numbers.next() ?? 1)
            case "boolean": object[name] = true
            case "object", "array": object[name] = SchemaInstance(root: schema ?? .null).value(of: property, depth: 0)
            case nil where property["$ref"] != nil || property["anyOf"] != nil:
                object[name] = SchemaInstance(root: schema ?? .null).value(of: property, depth: 0)
            default: object[name] = .string(words.last ?? "")
            }
        }
        return .object(object)
    }

    static func lastToolResult(in request: JSONValue) -> String? {
        guard let last = request["messages"]?.arrayValue?.last, last["role"]?.stringValue == "tool" else { return nil }
        return last["content"]?.stringValue ?? TracePreview.text(of: last["content"])
    }

    static func json(_ call: (name: String, arguments: String), id: String, withArguments: Bool) -> JSONValue {
        ["id": .string(id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(withArguments ? call.arguments : "")]]
    }

    static func indexed(_ call: JSONValue) -> JSONValue {
        guard var object = call.objectValue else { return call }
        object["index"] = 0
        return .object(object)
    }
}
