import Foundation
import NIOCore
import TollgateCore

/// What a successful upstream body says about usage, read in one decode; nil when the body is
/// not a JSON object.
struct CompletionReading {
    private static let decoder = JSONDecoder()

    var evidence: UsageEvidence
    var counts: TokenCounts?
    /// The parsed completion, kept when it is translated to a Responses object.
    var completion: JSONValue?
    /// The digest of a chat or embeddings body, kept for the output guardrails' texts.
    private var digest: ChatCompletionDigest?

    /// Each choice's answer text (chat and embeddings readings), read only when asked for.
    var texts: [String] { digest?.texts ?? [] }

    init?(_ body: ByteBuffer, output: OutputFormat) {
        switch output {
        case .chat, .embeddings:
            guard let digest = try? Self.decoder.decode(ChatCompletionDigest.self, from: body) else { return nil }
            evidence = digest.usageEvidence
            counts = digest.tokenCounts
            self.digest = digest
        case .responses:
            guard let completion = try? JSONValue.parse(body.readableBytesView), completion.objectValue != nil else { return nil }
            let reported = completion["usage"].flatMap(TokenEstimator.reported(in:))
            evidence = reported.map(UsageEvidence.reported)
                ?? .estimate(responseText: ChatCompletionText.text(ofCompletion: completion))
            counts = reported.map { TokenCounts(input: $0.input, output: $0.output) }
            self.completion = completion
        }
    }
}

/// The parts of a chat.completion the recorder reads; decoding it also validates the JSON.
struct ChatCompletionDigest: Decodable {
    struct Usage: Decodable {
        struct PromptDetails: Decodable { var cached_tokens: Int? }
        var prompt_tokens: Int?
        var completion_tokens: Int?
        var prompt_tokens_details: PromptDetails?
    }

    struct Choice: Decodable {
        struct Message: Decodable {
            enum CodingKeys: String, CodingKey { case content }
            var content: String?

            /// Content that is not a string (a list of parts) has no text to read; the body
            /// stays valid.
            init(from decoder: any Decoder) throws {
                content = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .content)
            }
        }

        var message: Message?
    }

    var usage: Usage?
    var choices: [Choice]?

    var tokenCounts: TokenCounts? {
        guard let input = usage?.prompt_tokens, let output = usage?.completion_tokens else { return nil }
        return TokenCounts(input: input, output: output)
    }

    var usageEvidence: UsageEvidence {
        // An embeddings list reports prompt tokens only: it has no output.
        if let input = usage?.prompt_tokens, let output = usage?.completion_tokens ?? (choices == nil ? 0 : nil) {
            return .reported(input: input, output: output, cachedInput: usage?.prompt_tokens_details?.cached_tokens)
        }
        return .estimate(responseText: texts.joined())
    }

    var texts: [String] { (choices ?? []).compactMap { $0.message?.content } }
}

/// Upstream error bodies: OpenAI-style envelopes pass through; anything else is wrapped.
enum UpstreamErrorBody {
    static func relayable(status: Int, raw: String) -> (status: Int, body: String) {
        if let json = try? JSONValue.parse(raw), json["error"] != nil {
            return (status, raw)
        }
        var extra = JSONObject()
        extra["upstream_status"] = .int(status)
        extra["upstream_body"] = .string(String(raw.prefix(64 * 1024)))
        let envelope = ErrorEnvelope(
            message: "The upstream answered HTTP \(status) with a body that is not an error object.",
            type: GatewayError.type(for: status), code: GatewayError.Code.upstreamError.rawValue, extra: extra
        )
        return (status, envelope.jsonText)
    }
}
