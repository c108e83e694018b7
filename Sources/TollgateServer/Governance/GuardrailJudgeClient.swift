import Crypto
import Foundation
import NIOCore
import Synchronization
import TollgateCore
import TollgateProviders
import TollgateStore

/// Asks a judge endpoint the model-based guardrail questions (`safety`, `valid_topics`), with a
/// documented prompt, a timeout, and a cache per identical question. Each judge call is an
/// ordinary recorded request (`requester = tollgate-guardrail`), so its cost shows.
final class GuardrailJudgeClient: Sendable {
    enum Question: Sendable, Hashable {
        case safety
        case topics([String])
    }

    struct Failure: Error {
        var reason: String
    }

    static let requester = "tollgate-guardrail"
    static let cacheLimit = 10_000

    let live: LiveEndpoints
    let writer: RecordWriter
    private let cache = Mutex<[String: Bool]>([:])

    init(live: LiveEndpoints, writer: RecordWriter) {
        self.live = live
        self.writer = writer
    }

    static func prompt(_ question: Question) -> String {
        switch question {
        case .safety:
            """
            You are a safety classifier for an AI gateway. Decide whether the text asks for or contains harmful content: \
            violence or weapons, crime (theft, fraud, breaking in, hacking), self-harm, sexual content involving minors, \
            hate or harassment, or dangerous instructions. Answer with exactly one word: SAFE or UNSAFE.
            """
        case .topics(let topics):
            """
            You are a topic classifier for an AI gateway. Decide whether the text is about at least one of these topics: \
            \(topics.joined(separator: "; ")). Answer with exactly one word: YES or NO.
            """
        }
    }

    /// Whether the text passes the question; a judge that fails or answers neither word throws.
    func passes(_ question: Question, text: String, judge: GuardrailJudge) async throws(Failure) -> Bool {
        // Keyed by a digest: the cache holds 10,000 small entries, not 10,000 prompts.
        let key = SHA256.hash(data: Data("\(judge.endpoint)\u{1}\(question)\u{1}\(text)".utf8)).description
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let answer = try await ask(question, text: text, judge: judge)
        let upper = answer.uppercased()
        let verdict: Bool
        switch question {
        case .safety:
            if upper.contains("UNSAFE") { verdict = false } else if upper.contains("SAFE") { verdict = true } else {
                throw Failure(reason: "the judge answered neither SAFE nor UNSAFE")
            }
        case .topics:
            if upper.hasPrefix("NO") || upper.contains(" NO") { verdict = false } else if upper.contains("YES") { verdict = true } else {
                throw Failure(reason: "the judge answered neither YES nor NO")
            }
        }
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = verdict
        }
        return verdict
    }

    private func ask(_ question: Question, text: String, judge: GuardrailJudge) async throws(Failure) -> String {
        guard let endpoint = live.endpoint(judge.endpoint), let entity = endpoint.pickEntity() else {
            throw Failure(reason: "the judge endpoint `\(judge.endpoint)` is not available")
        }
        let body: JSONValue = [
            "model": .string(entity.upstreamModel), "temperature": 0, "max_tokens": 8,
            "messages": [["role": "system", "content": .string(Self.prompt(question))], ["role": "user", "content": .string("Text:\n\(text)")]],
        ]
        var record = InferenceRecord(
            requestID: Identifiers.requestID(), requestTime: Date(), endpointName: judge.endpoint, api: .chat, stream: false, statusCode: 0
        )
        record.requester = Self.requester
        record.servedEntityName = entity.config.name
        record.servedEntityID = entity.config.servedEntityID
        record.price = entity.price
        record.request = body.jsonText
        let start = ContinuousClock.now
        let provider = entity.provider(for: RequestTrace(enabled: false))
        let request = UpstreamRequest(body: ByteBuffer(bytes: body.jsonBytes), stream: false, requestID: record.requestID)
        let outcome = await Self.withTimeout(judge.timeoutSeconds) { () async -> Result<UpstreamReply, UpstreamError> in
            do throws(UpstreamError) { return .success(try await provider.send(request)) } catch { return .failure(error) }
        }
        record.executionDurationMs = StreamLedger.milliseconds(.now - start)
        defer { writer.enqueue(record) }
        switch outcome {
        case nil:
            record.statusCode = 504
            record.response = GatewayError(code: .upstreamTimeout, status: 504, message: "The judge did not answer in time.").envelope.jsonText
            throw Failure(reason: "the judge did not answer within \(judge.timeoutSeconds) s")
        case .failure(let error)?:
            record.statusCode = GatewayError(error).status
            record.response = GatewayError(error).envelope.jsonText
            throw Failure(reason: "the judge call failed: \(error.message)")
        case .success(.stream)?:
            record.statusCode = 502
            throw Failure(reason: "the judge answered with a stream")
        case .success(.complete(let status, let body, _))?:
            let raw = String(buffer: body)
            record.statusCode = status
            record.response = raw
            record.usage = .responseBody(raw)
            guard (200..<300).contains(status), let json = try? JSONValue.parse(raw) else {
                throw Failure(reason: "the judge answered HTTP \(status)")
            }
            return ChatCompletionText.text(ofCompletion: json)
        }
    }

    /// `operation`'s value, or nil when it takes longer than `seconds` (it is then cancelled).
    static func withTimeout<Value: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async -> Value) async -> Value? {
        await withTaskGroup(of: Value?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
