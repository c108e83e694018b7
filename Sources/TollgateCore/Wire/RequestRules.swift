/// The checks every inference route applies to a client's parameters before any upstream call,
/// with OpenAI's wording: types, ranges and the shape of `messages`. Every number a client sends
/// is range-checked here, so nothing past this point converts an unchecked value.
public enum RequestRules {
    /// Members the rules read: the chat route parses only these.
    public static let checkedKeys: Set<String> = Set(integerRanges.keys).union(numberRanges.keys).union(booleanKeys)
        .union(["model", "stream_options"])

    /// Integer parameters and their accepted ranges.
    static let integerRanges: [String: ClosedRange<Int>] = [
        "max_tokens": 1...Int(Int32.max), "max_completion_tokens": 1...Int(Int32.max), "max_output_tokens": 1...Int(Int32.max),
        "n": 1...128, "top_logprobs": 0...20, "seed": Int.min...Int.max, "dimensions": 1...65_536,
    ]

    /// Number parameters and their accepted ranges.
    static let numberRanges: [String: ClosedRange<Double>] = [
        "temperature": 0...2, "top_p": 0...1, "presence_penalty": -2...2, "frequency_penalty": -2...2,
    ]

    static let booleanKeys: Set<String> = ["stream", "logprobs", "parallel_tool_calls", "store"]

    /// The roles Chat Completions accepts.
    public static let knownRoles = ["system", "assistant", "user", "function", "tool", "developer"]

    /// Checks the parameters of `body` (its parsed `values`); `needsMessages` requires a
    /// non-empty `messages` array of known roles.
    public static func check(_ body: RequestMembers, needsMessages: Bool) throws(TranslationError) {
        try check(parameters: body.values)
        if needsMessages { try check(messages: body.messages) }
    }

    /// `input` of an embeddings request: a non-empty string, or 1–2048 non-empty strings, or token
    /// arrays (integers 0…2^31−1).
    public static func checkEmbeddingsInput(_ input: JSONValue?) throws(TranslationError) {
        let shape = "'input' must be a non-empty string, an array of up to 2048 non-empty strings, or an array of token arrays."
        func isTokens(_ value: JSONValue) -> Bool {
            guard let tokens = value.arrayValue, !tokens.isEmpty else { return false }
            return tokens.allSatisfy { token in
                guard case .number(let number) = token, let int = number.int else { return false }
                return (0...Int(Int32.max)).contains(int)
            }
        }
        switch input {
        case nil, .null?:
            throw TranslationError(message: "Missing required parameter: 'input'.", param: "input")
        case .string(let text)? where !text.isEmpty:
            return
        case .array(let items)? where !items.isEmpty && items.count <= 2048:
            if items.allSatisfy({ ($0.stringValue?.isEmpty == false) }) || isTokens(.array(items)) || items.allSatisfy(isTokens) { return }
            throw TranslationError(message: shape, param: "input")
        default:
            throw TranslationError(message: shape, param: "input")
        }
    }

    /// Type and range of each parameter present (`null` means absent, as OpenAI treats it).
    public static func check(parameters values: JSONObject) throws(TranslationError) {
        for (key, value) in values.pairs where value != .null {
            if key == "model" {
                guard value.stringValue != nil else { throw invalidType(key, "a string", value) }
            } else if key == "stream_options" {
                guard value.objectValue != nil else { throw invalidType(key, "an object", value) }
            } else if booleanKeys.contains(key) {
                guard value.boolValue != nil else { throw invalidType(key, "a boolean", value) }
            } else if let range = integerRanges[key] {
                try check(integer: value, key: key, in: range)
            } else if let range = numberRanges[key] {
                guard case .number(let number) = value else { throw invalidType(key, "a number", value) }
                let double = number.double
                guard double >= range.lowerBound else { throw outOfRange(key, below: "\(range.lowerBound)", got: number.text) }
                guard double <= range.upperBound else { throw outOfRange(key, above: "\(range.upperBound)", got: number.text) }
            }
        }
    }

    private static func check(integer value: JSONValue, key: String, in range: ClosedRange<Int>) throws(TranslationError) {
        guard case .number(let number) = value else { throw invalidType(key, "an integer", value) }
        let double = number.double
        if let exact = number.int {
            guard exact >= range.lowerBound else { throw outOfRange(key, below: "\(range.lowerBound)", got: number.text) }
            guard exact <= range.upperBound else { throw outOfRange(key, above: "\(range.upperBound)", got: number.text) }
            return
        }
        guard double.rounded() == double || !double.isFinite else { throw invalidType(key, "an integer", value) }
        if double < 0 { throw outOfRange(key, below: "\(range.lowerBound)", got: number.text) }
        throw outOfRange(key, above: "\(range.upperBound)", got: number.text)
    }

    /// `messages` must be a non-empty array whose items each have a known `role`.
    public static func check(messages: RequestMembers.MessagesShape?) throws(TranslationError) {
        switch messages {
        case nil:
            throw TranslationError(message: "Missing required parameter: 'messages'.", param: "messages")
        case .notArray?:
            throw TranslationError(message: "Invalid type for 'messages': expected an array of message objects.", param: "messages")
        case .array(let roles)?:
            guard !roles.isEmpty else {
                throw TranslationError(
                    message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                    param: "messages")
            }
            for (offset, role) in roles.enumerated() {
                let param = "messages[\(offset)].role"
                guard let role else { throw TranslationError(message: "Missing required parameter: '\(param)'.", param: param) }
                guard knownRoles.contains(role) else {
                    let supported = knownRoles.dropLast().map { "'\($0)'" }.joined(separator: ", ") + ", and 'developer'"
                    throw TranslationError(message: "Invalid value: '\(role)'. Supported values are: \(supported).", param: param)
                }
            }
        }
    }

    private static func invalidType(_ key: String, _ expected: String, _ value: JSONValue) -> TranslationError {
        TranslationError(message: "Invalid type for '\(key)': expected \(expected), but got \(typeName(value)) instead.", param: key)
    }

    private static func outOfRange(_ key: String, above limit: String, got: String) -> TranslationError {
        TranslationError(message: "Invalid '\(key)': value above maximum. Expected a value <= \(limit), but got \(got) instead.", param: key)
    }

    private static func outOfRange(_ key: String, below limit: String, got: String) -> TranslationError {
        TranslationError(message: "Invalid '\(key)': value below minimum. Expected a value >= \(limit), but got \(got) instead.", param: key)
    }

    public static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
