/// Resolves `UsageEvidence` to token counts. Estimates use ~4 characters per token, the usual
/// rule of thumb for English text with GPT-style tokenizers, and are marked `estimated`.
public enum TokenEstimator {
    public static func usage(for evidence: UsageEvidence, requestBody: String?) -> TokenUsage? {
        switch evidence {
        case .none:
            return nil
        case .reported(let input, let output, let cachedInput):
            return TokenUsage(input: input, output: output, source: .reported, cachedInput: cachedInput)
        case .responseBody(let body):
            let parsed = try? JSONValue.parse(body)
            if let usage = parsed?["usage"], let reported = reported(in: usage) {
                return reported
            }
            let text = parsed.map(ChatCompletionText.text(ofCompletion:)) ?? ""
            return TokenUsage(input: estimateInput(requestBody), output: estimate(text), source: .estimated)
        case .estimate(let responseText):
            return TokenUsage(input: estimateInput(requestBody), output: estimate(responseText), source: .estimated)
        }
    }

    /// Reads Chat Completions (`prompt_tokens`…) or Responses (`input_tokens`…) usage objects.
    public static func reported(in usage: JSONValue) -> TokenUsage? {
        if let input = usage["prompt_tokens"]?.countValue, let output = usage["completion_tokens"]?.countValue {
            return TokenUsage(input: input, output: output, source: .reported, cachedInput: usage["prompt_tokens_details"]?["cached_tokens"]?.countValue)
        }
        if let input = usage["input_tokens"]?.countValue, let output = usage["output_tokens"]?.countValue {
            return TokenUsage(input: input, output: output, source: .reported, cachedInput: usage["input_tokens_details"]?["cached_tokens"]?.countValue)
        }
        return nil
    }

    public static func estimate(_ text: String) -> Int {
        let count = text.unicodeScalars.count
        return count == 0 ? 0 : max(1, (count + 3) / 4)
    }

    /// Estimates prompt tokens from the text of a chat (`messages`) or Responses (`input`) body.
    public static func estimateInput(_ requestBody: String?) -> Int {
        guard let requestBody, let body = try? JSONValue.parse(requestBody) else { return 0 }
        return estimateInput(parsed: body)
    }

    /// Estimates prompt tokens of an already parsed chat or Responses body.
    public static func estimateInput(parsed body: JSONValue) -> Int {
        var text = ""
        func collect(_ value: JSONValue?) {
            switch value {
            case .string(let string)?: text += string
            case .array(let items)?:
                for item in items {
                    if let string = item.stringValue { text += string } else {
                        collect(item["content"])
                        collect(item["text"])
                    }
                }
            default: break
            }
        }
        collect(body["messages"])
        collect(body["input"])
        collect(body["instructions"])
        // Each chat message costs a few framing tokens.
        let messages = body["messages"]?.arrayValue?.count ?? 0
        return estimate(text) + messages * 3
    }
}

/// Reads assistant text out of Chat Completions bodies and chunks.
public enum ChatCompletionText {
    /// Joined `choices[].message.content` of a chat.completion.
    public static func text(ofCompletion completion: JSONValue) -> String {
        (completion["choices"]?.arrayValue ?? []).compactMap { $0["message"]?["content"]?.stringValue }.joined()
    }

    /// Joined `choices[].delta.content` of a chat.completion.chunk.
    public static func delta(ofChunk chunk: JSONValue) -> String {
        (chunk["choices"]?.arrayValue ?? []).compactMap { $0["delta"]?["content"]?.stringValue }.joined()
    }

    /// The first non-null `finish_reason` of a chunk or completion.
    public static func finishReason(of value: JSONValue) -> String? {
        (value["choices"]?.arrayValue ?? []).lazy.compactMap { $0["finish_reason"]?.stringValue }.first
    }
}
