import Synchronization
import TollgateCore
import TollgateProviders

/// The CHAT_MODEL span of a streamed model call: chunks are aggregated as they pass, and the
/// span is added once, with the assembled output, when the stream ends.
final class StreamSpan: Sendable {
    private struct State {
        var text = ""
        var finishReason: String?
        var usage: TokenCounts?
        var annotations: [JSONValue] = []
        var done = false
    }

    private let trace: RequestTrace
    private let parent: String?
    private let start: UInt64
    private let inputs: String
    private let upstreamModel: String
    private let state = Mutex(State())

    /// - Parameter parent: the enclosing span, or nil when this call is the trace's root.
    init(trace: RequestTrace, parent: String?, start: UInt64, inputs: String, upstreamModel: String) {
        self.trace = trace
        self.parent = parent
        self.start = start
        self.inputs = inputs
        self.upstreamModel = upstreamModel
    }

    /// The same chunks, observed on their way through; the span ends with the stream.
    func watching(_ chunks: UpstreamChunkStream) -> UpstreamChunkStream {
        UpstreamChunkStream { () async throws(UpstreamError) -> UpstreamChunk? in
            do throws(UpstreamError) {
                let chunk = try await chunks.next()
                if let chunk { self.observe(chunk.json) } else { self.finish(error: nil) }
                return chunk
            } catch {
                self.finish(error: ("UpstreamError.\(error.code.rawValue)", error.rawBody ?? error.message))
                throw error
            }
        }
    }

    deinit {
        finish(error: ("StreamAbandoned", "the stream ended before the model finished (client gone)"))
    }

    func observe(_ chunk: JSONValue) {
        state.withLock { state in
            state.text += ChatCompletionText.delta(ofChunk: chunk)
            if let reason = ChatCompletionText.finishReason(of: chunk) { state.finishReason = reason }
            if let usage = chunk["usage"].flatMap(TokenEstimator.reported(in:)) {
                state.usage = TokenCounts(input: usage.input, output: usage.output)
            }
            if let filters = chunk["prompt_filter_results"] { state.annotations.append(["prompt_filter_results": filters]) }
            for choice in chunk["choices"]?.arrayValue ?? [] {
                if let filters = choice["content_filter_results"], choice["finish_reason"]?.stringValue == "content_filter" {
                    state.annotations.append(["content_filter_results": filters])
                }
            }
        }
    }

    func finish(error: (type: String, message: String)?) {
        guard let finished = state.withLock({ state -> State? in
            guard !state.done else { return nil }
            state.done = true
            return state
        }) else { return }
        var output: JSONObject = [
            "object": "chat.completion", "model": .string(upstreamModel),
            "choices": [["index": 0, "message": ["role": "assistant", "content": .string(finished.text)], "finish_reason": .optionalString(finished.finishReason)]],
        ]
        if let usage = finished.usage {
            output["usage"] = ["prompt_tokens": .int(usage.input), "completion_tokens": .int(usage.output), "total_tokens": .int(usage.total)]
        }
        if !finished.annotations.isEmpty { output["filter_annotations"] = .array(finished.annotations) }
        trace.addModelCall(
            parent: parent, start: start, inputs: inputs, outputs: JSONValue.object(output).jsonText, usage: finished.usage,
            error: error, upstreamModel: upstreamModel, stream: true
        )
    }
}
