import Foundation
import TollgateCore

/// Decides, deterministically, what the simulator answers to one chat request, and builds the
/// bodies in Azure OpenAI's exact shapes (REFERENCE.md §6). Pure: no I/O, no clock reads except
/// the `created` value it is given.
public struct SimulatorScript: Sendable {
    public let outcome: SimulatorOutcome
    public let afterChunks: Int
    public let model: String
    public let words: [String]
    public let finishReason: String
    public let promptTokens: Int
    public let stream: Bool
    public let includeUsage: Bool
    public let id: String
    public let created: Int
    /// A call of one of the offered tools, when the prompt names it: `(name, arguments JSON)`.
    public let toolCall: (name: String, arguments: String)?
    /// `n`: how many (identical) choices to answer.
    public let choiceCount: Int
    /// `top_logprobs` when `logprobs` is on, else nil.
    public let topLogprobs: Int?

    /// The scenarios used when a simulator's config does not turn them off: the five probe
    /// prompts of PRODUCT.md and explicit `sim:` triggers.
    public static let defaultScenarios: [SimulatorScenario] = [
        SimulatorScenario(match: "rob a bank", outcome: .promptBlocked),
        SimulatorScenario(match: "build a weapon", outcome: .promptBlocked),
        SimulatorScenario(match: "planning a crime", outcome: .streamCut, afterChunks: 3),
        SimulatorScenario(match: "sim:prompt_blocked", outcome: .promptBlocked),
        SimulatorScenario(match: "sim:stream_cut", outcome: .streamCut, afterChunks: 3),
        SimulatorScenario(match: "sim:rate_limited", outcome: .rateLimited),
        SimulatorScenario(match: "sim:server_error", outcome: .serverError),
        SimulatorScenario(match: "sim:stall", outcome: .stall),
        SimulatorScenario(match: "sim:invalid_json", outcome: .invalidJSON),
    ]

    public init(request: JSONValue, config: SimulatorConfig, id: String, created: Int) {
        let prompt = Self.lastUserMessage(in: request)
        let scenarios = config.scenarios + (config.defaultScenarios ? Self.defaultScenarios : [])
        let lowered = prompt.lowercased()
        let scenario = scenarios.first { lowered.contains($0.match.lowercased()) }
        outcome = scenario?.outcome ?? .success
        afterChunks = scenario?.afterChunks ?? (outcome == .stall ? 0 : outcome == .invalidJSON ? 1 : 3)
        model = request["model"]?.stringValue ?? "simulator"
        stream = request["stream"]?.boolValue ?? false
        includeUsage = request["stream_options"]?["include_usage"]?.boolValue ?? false
        self.id = id
        self.created = created
        promptTokens = TokenEstimator.estimateInput(parsed: request)
        toolCall = outcome == .success ? SimulatedTools.call(for: request, prompt: prompt) : nil
        var words = Self.answerWords(for: SimulatedTools.lastToolResult(in: request).map { "the tool result \($0)" } ?? prompt)
        if let reply = scenario?.reply {
            words = reply.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { $0.offset == 0 ? String($0.element) : " " + $0.element }
        }
        var finish = "stop"
        let limit = request["max_tokens"]?.intValue ?? request["max_completion_tokens"]?.intValue
        if let limit, limit > 0, words.count > limit {
            words = Array(words.prefix(limit))
            finish = "length"
        }
        if outcome == .streamCut {
            words = Array(words.prefix(afterChunks))
            finish = "content_filter"
        }
        if toolCall != nil {
            words = []
            finish = "tool_calls"
        } else if outcome != .streamCut, let json = SimulatedStructure.answer(format: request["response_format"], text: words.joined()) {
            words = SimulatedStructure.pieces(json)
            finish = "stop"
        }
        choiceCount = min(max(request["n"]?.intValue ?? 1, 1), 8)
        topLogprobs = request["logprobs"]?.boolValue == true ? min(max(request["top_logprobs"]?.intValue ?? 0, 0), 20) : nil
        self.words = words
        finishReason = finish
    }

    /// The answer's words, each with its leading space after the first (one per stream chunk).
    static func answerWords(for prompt: String) -> [String] {
        let topic = prompt.split(whereSeparator: \.isWhitespace).prefix(12).joined(separator: " ")
            .trimmingCharacters(in: CharacterSet(charactersIn: ".?!"))
        let sentence = "This is a deterministic answer from the Tollgate simulator about: \(topic). It has no model behind it, so its words are the same every time."
        let parts = sentence.split(separator: " ").map(String.init)
        return parts.enumerated().map { $0.offset == 0 ? $0.element : " " + $0.element }
    }

    static func lastUserMessage(in request: JSONValue) -> String {
        let messages = request["messages"]?.arrayValue ?? []
        return messages.last { $0["role"]?.stringValue == "user" }.map { TracePreview.text(of: $0["content"]) } ?? ""
    }

    public var completionTokens: Int { choiceCount * (toolCall == nil ? words.count : max(1, toolCall!.arguments.count / 4)) }
    var toolCallID: String { "call_" + id.suffix(12) }
    public var text: String { words.joined() }

    public var usage: JSONValue {
        [
            "prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
            "total_tokens": .int(promptTokens + completionTokens),
        ]
    }

    // MARK: - Bodies

    /// A whole chat.completion with prompt and completion filter annotations.
    public var completion: JSONValue {
        let filtered = finishReason == "content_filter"
        var message: JSONValue = ["role": "assistant", "content": .string(text), "refusal": nil]
        if let toolCall {
            message = ["role": "assistant", "content": nil, "refusal": nil, "tool_calls": [SimulatedTools.json(toolCall, id: toolCallID, withArguments: true)]]
        }
        let choices: [JSONValue] = (0..<choiceCount).map { index in
            [
                "index": .int(index), "finish_reason": .string(finishReason), "message": message,
                "logprobs": topLogprobs.map { SimulatedStructure.logprobs(words, top: $0) } ?? .null,
                "content_filter_results": AzureFilters.completion(violence: filtered),
            ]
        }
        return [
            "id": .string(id), "object": "chat.completion", "created": .int(created), "model": .string(model),
            "system_fingerprint": "fp_tollgate_sim", "prompt_filter_results": AzureFilters.promptResults(),
            "choices": .array(choices), "usage": usage,
        ]
    }

    /// The Azure prompt-blocked error body (HTTP 400).
    public var promptBlockedError: JSONValue {
        [
            "error": [
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
                "type": nil, "param": "prompt", "code": "content_filter", "status": 400,
                "innererror": ["code": "ResponsibleAIPolicyViolation", "content_filter_result": AzureFilters.prompt(violence: true)],
            ]
        ]
    }

    public var rateLimitError: JSONValue {
        ["error": ["message": "Requests to the simulated deployment have exceeded the rate limit. Retry after 1 second.", "type": "rate_limit_error", "param": nil, "code": "429"]]
    }

    public var serverError: JSONValue {
        ["error": ["message": "The simulated server had an error while processing your request.", "type": "server_error", "param": nil, "code": "internal_error"]]
    }

    /// The stream's payloads in order (without `[DONE]`): an annotation-only chunk, a role chunk,
    /// one chunk per word, a finish chunk, and a usage chunk when asked for.
    public var chunks: [JSONValue] {
        var chunks: [JSONValue] = [
            ["id": "", "object": "", "created": 0, "model": "", "choices": [], "prompt_filter_results": AzureFilters.promptResults()],
            chunk(delta: ["role": "assistant", "content": ""], finish: nil, filters: nil),
        ]
        for word in words {
            for index in 0..<choiceCount {
                chunks.append(chunk(
                    delta: ["content": .string(word)], finish: nil, filters: AzureFilters.completion(violence: false), index: index,
                    logprobs: topLogprobs.map { SimulatedStructure.logprobs([word], top: $0) }
                ))
            }
        }
        if let toolCall {
            var opening = SimulatedTools.json(toolCall, id: toolCallID, withArguments: false)
            opening = SimulatedTools.indexed(opening)
            chunks.append(chunk(delta: ["tool_calls": [opening]], finish: nil, filters: nil))
            chunks.append(chunk(delta: ["tool_calls": [["index": 0, "function": ["arguments": .string(toolCall.arguments)]]]], finish: nil, filters: nil))
        }
        let cut = finishReason == "content_filter"
        for index in 0..<choiceCount {
            chunks.append(chunk(delta: [:], finish: finishReason, filters: cut ? AzureFilters.completion(violence: true) : Optional<JSONValue>.none, index: index))
        }
        if includeUsage {
            chunks.append(["id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model), "choices": [], "usage": usage])
        }
        return chunks
    }

    private func chunk(delta: JSONValue, finish: String?, filters: JSONValue?, index: Int = 0, logprobs: JSONValue? = nil) -> JSONValue {
        var choice: JSONObject = ["index": .int(index), "delta": delta, "finish_reason": .optionalString(finish), "logprobs": logprobs ?? .null]
        if let filters { choice["content_filter_results"] = filters }
        var object: JSONObject = ["id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model)]
        object["system_fingerprint"] = "fp_tollgate_sim"
        object["choices"] = [.object(choice)]
        if includeUsage { object["usage"] = .null }
        return .object(object)
    }
}

/// Azure OpenAI content-filter annotation objects.
enum AzureFilters {
    static func severity(_ filtered: Bool) -> JSONValue {
        ["filtered": .bool(filtered), "severity": filtered ? "medium" : "safe"]
    }

    static let notDetected: JSONValue = ["filtered": false, "detected": false]

    static func prompt(violence: Bool) -> JSONValue {
        ["hate": severity(false), "jailbreak": notDetected, "self_harm": severity(false), "sexual": severity(false), "violence": severity(violence)]
    }

    static func promptResults() -> JSONValue {
        [["prompt_index": 0, "content_filter_results": prompt(violence: false)]]
    }

    static func completion(violence: Bool) -> JSONValue {
        [
            "hate": severity(false), "protected_material_code": notDetected, "protected_material_text": notDetected,
            "self_harm": severity(false), "sexual": severity(false), "violence": severity(violence),
        ]
    }
}
