import Foundation
import NIOCore
import TollgateCore
import TollgateProviders

/// Answers an agent makes itself (the `respond:` error policy), in Chat Completions shapes.
enum AgentReplies {
    static func canned(_ text: String, stream: Bool, model: String) -> UpstreamReply {
        let id = Identifiers.hex(prefix: "chatcmpl-agent-")
        let created = JSONValue.int(Int(Date().timeIntervalSince1970))
        guard stream else {
            let completion: JSONValue = [
                "id": .string(id), "object": "chat.completion", "created": created, "model": .string(model),
                "choices": [["index": 0, "message": ["role": "assistant", "content": .string(text)], "finish_reason": "stop", "logprobs": nil]],
            ]
            return .complete(status: 200, body: ByteBuffer(string: completion.jsonText))
        }
        func chunk(_ delta: JSONValue, finish: String?) -> JSONValue {
            [
                "id": .string(id), "object": "chat.completion.chunk", "created": created, "model": .string(model),
                "choices": [["index": 0, "delta": delta, "finish_reason": .optionalString(finish), "logprobs": nil]],
            ]
        }
        var pending = [
            chunk(["role": "assistant", "content": .string(text)], finish: nil),
            chunk([:], finish: "stop"),
        ]
        let box = CannedChunks(pending: pending)
        pending.removeAll()
        return .stream(UpstreamChunkStream { () async throws(UpstreamError) -> UpstreamChunk? in box.next() })
    }
}

/// The chunks of a canned stream, handed out in order.
///
/// `@unchecked Sendable`: read by the single task that relays the stream.
final class CannedChunks: @unchecked Sendable {
    private var pending: [JSONValue]

    init(pending: [JSONValue]) { self.pending = pending }

    func next() -> UpstreamChunk? {
        guard !pending.isEmpty else { return nil }
        let value = pending.removeFirst()
        return UpstreamChunk(text: value.jsonText, json: value)
    }
}
