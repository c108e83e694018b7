import Foundation
import TollgateCore

/// How the simulator plays a model that uses tools: when the last message is the user's and it
/// names one of the offered function tools, it calls that tool; when the last message is a tool
/// result, it answers with that result.
enum SimulatedTools {
    static func call(for request: JSONValue, prompt: String) -> (name: String, arguments: String)? {
        guard let tools = request["tools"]?.arrayValue, !tools.isEmpty,
              request["messages"]?.arrayValue?.last?["role"]?.stringValue == "user"
        else { return nil }
        for tool in tools {
            guard let name = tool["function"]?["name"]?.stringValue, prompt.contains(name) else { continue }
            return (name, arguments(for: tool["function"]?["parameters"], prompt: prompt).jsonText)
        }
        return nil
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
