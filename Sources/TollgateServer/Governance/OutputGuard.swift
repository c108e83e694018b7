import TollgateCore
import TollgateProviders

/// Output guardrails on a whole chat.completion: each choice's content is screened; MASK
/// rewrites it, BLOCK empties it with `finish_reason: "content_filter"`; every screened choice
/// carries Azure's `content_filter_results`.
enum CompletionGuard {
    static func apply(_ check: GuardrailCheck, to completion: JSONValue) -> (body: JSONValue, findings: [GuardrailFinding]) {
        guard case .object(var object) = completion, case .array(var choices)? = object["choices"] else { return (completion, []) }
        var all: [GuardrailFinding] = []
        for index in choices.indices {
            guard case .object(var choice) = choices[index], case .object(var message)? = choice["message"],
                  let content = message["content"]?.stringValue else { continue }
            let (findings, masked) = check.screen([content])
            all += findings
            choice["content_filter_results"] = GuardrailAnnotations.categories(findings)
            if findings.contains(where: \.blocks) {
                message["content"] = ""
                choice["finish_reason"] = "content_filter"
            } else {
                message["content"] = .string(masked.first ?? content)
            }
            choice["message"] = .object(message)
            choices[index] = .object(choice)
        }
        object["choices"] = .array(choices)
        return (.object(object), all)
    }
}

/// Governs a stream as it is relayed: output guardrails per choice (a held-back window, masked
/// or cut with `finish_reason: "content_filter"`) and the token budget (charged as chunks arrive,
/// cut once the rate limit's tokens are spent).
struct StreamGovernor {
    enum Step {
        /// Chunks to relay now (possibly none while text is held back).
        case relay([UpstreamChunk])
        /// The chunks to send, then the stream ends.
        case cut([UpstreamChunk], end: StreamEnd)
    }

    private let check: GuardrailCheck?
    private var screens: [Int: StreamScreen] = [:]
    private(set) var findings: [GuardrailFinding] = []
    private let limiter: (any RateLimiter)?
    private let ticket: LimitTicket?
    /// Tokens of the request so far (input estimate, then each chunk's output).
    private(set) var tokens: Int
    /// The last chunk's envelope (id, model, created), for chunks the governor writes itself.
    private var envelope = JSONObject()

    init(governance: CallGovernance) {
        check = governance.output
        limiter = governance.ticket == nil ? nil : governance.limiter
        ticket = governance.ticket
        tokens = governance.inputTokens
    }

    var isActive: Bool { check != nil || limiter != nil }

    /// Whether output guardrails screen this stream (its findings are worth noting as it goes).
    var screensOutput: Bool { check != nil }

    mutating func pass(_ chunk: UpstreamChunk) async -> Step {
        let text = ChatCompletionText.delta(ofChunk: chunk.json)
        if let usage = chunk.json["usage"], let reported = TokenEstimator.reported(in: usage) {
            tokens = max(tokens, reported.input + reported.output)
        } else if !text.isEmpty {
            tokens += max(1, TokenEstimator.estimate(text))
        }
        // A chunk without answer text (the closing usage chunk) is charged but never cut: the
        // answer it closes is already complete. A cut sends what the windows held first.
        if let limiter, let ticket, !(await limiter.charge(ticket, tokensSoFar: tokens)), !text.isEmpty {
            switch finish() {
            case .relay(let held): return .cut(held, end: .rateLimited)
            case .cut(let held, let end): return .cut(held, end: end)
            }
        }
        guard let check, case .object(var object) = chunk.json, case .array(var choices)? = object["choices"] else { return .relay([chunk]) }
        for key in ["id", "object", "created", "model"] { envelope[key] = object[key] }
        let before: [UpstreamChunk] = []
        for position in choices.indices {
            guard case .object(var choice) = choices[position] else { continue }
            let index = choice["index"]?.intValue ?? position
            var screen = screens[index] ?? check.streamScreen()
            var step: StreamScreenStep = .send("")
            if case .object(var delta)? = choice["delta"], let content = delta["content"]?.stringValue {
                step = screen.feed(content)
                if case .send(let text) = step {
                    delta["content"] = .string(text)
                    choice["delta"] = .object(delta)
                }
            }
            if case .send = step, let reason = choice["finish_reason"], !reason.isNull {
                // The choice ends: what the window still holds goes out before its last chunk.
                let flushed = screen.finish()
                if case .send(let rest) = flushed, !rest.isEmpty {
                    var delta = choice["delta"]?.objectValue ?? JSONObject()
                    delta["content"] = .string((delta["content"]?.stringValue ?? "") + rest)
                    choice["delta"] = .object(delta)
                }
                if case .block = flushed { step = flushed }
            }
            screens[index] = screen
            if case .block(let safe, let finding) = step {
                return .cut(blocked(index: index, safe: safe, finding: finding, before: before), end: .contentFilter)
            }
            choices[position] = .object(choice)
        }
        object["choices"] = .array(choices)
        let rewritten = JSONValue.object(object)
        return .relay(before + [UpstreamChunk(text: rewritten.jsonText, json: rewritten)])
    }

    /// The upstream ended without finishing some choices: flush what their windows hold.
    mutating func finish() -> Step {
        var chunks: [UpstreamChunk] = []
        for index in screens.keys.sorted() {
            guard var screen = screens[index] else { continue }
            let step = screen.finish()
            screens[index] = screen
            switch step {
            case .send(let rest): if !rest.isEmpty { chunks.append(contentChunk(index: index, text: rest)) }
            case .block(let safe, let finding): return .cut(blocked(index: index, safe: safe, finding: finding, before: chunks), end: .contentFilter)
            }
        }
        for screen in screens.values { findings += screen.findings.map { GuardrailFinding($0, direction: .output) } }
        screens = [:]
        return .relay(chunks)
    }

    /// Every finding so far, including what the open windows found.
    var allFindings: [GuardrailFinding] {
        findings + screens.keys.sorted().flatMap { screens[$0]?.findings.map { GuardrailFinding($0, direction: .output) } ?? [] }
    }

    private mutating func blocked(index: Int, safe: String, finding: FindingSummary, before: [UpstreamChunk]) -> [UpstreamChunk] {
        var chunks = before
        if !safe.isEmpty { chunks.append(contentChunk(index: index, text: safe)) }
        let found = allFindings
        findings = found
        screens = [:]
        var choice: JSONObject = ["index": .int(index), "delta": [:], "finish_reason": "content_filter"]
        choice["content_filter_results"] = GuardrailAnnotations.categories(found.isEmpty ? [GuardrailFinding(finding, direction: .output)] : found)
        chunks.append(make(choice: choice))
        return chunks
    }

    private func contentChunk(index: Int, text: String) -> UpstreamChunk {
        make(choice: ["index": .int(index), "delta": ["content": .string(text)], "finish_reason": nil])
    }

    private func make(choice: JSONObject) -> UpstreamChunk {
        var object = envelope
        if object["object"] == nil { object["object"] = "chat.completion.chunk" }
        object["choices"] = [.object(choice)]
        let value = JSONValue.object(object)
        return UpstreamChunk(text: value.jsonText, json: value)
    }
}
