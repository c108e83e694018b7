import Hummingbird
import NIOCore
import TollgateCore
import TollgateProviders
import TollgateStore

/// Relays a Chat Completions stream event by event as it arrives, recording every payload sent;
/// with output guardrails or a token limit, each chunk passes the `StreamGovernor` first.
struct ChatStreamRelay: Sendable {
    let call: InferenceCall
    let chunks: UpstreamChunkStream
    let writer: RecordWriter
    let start: ContinuousClock.Instant

    func response() -> Response {
        var record = call.record
        record.statusCode = 200
        let ledger = StreamLedger(call: call, record: record, upstreamStart: start, writer: writer)
        let chunks = self.chunks
        let returnTrace = call.returnTrace
        let governor = StreamGovernor(governance: call.governance)
        let active = governor.isActive
        let body = ResponseBody { writer in
            await withTaskCancellationHandler {
                await Self.relay(chunks, to: &writer, ledger: ledger, returnTrace: returnTrace, governor: active ? governor : nil)
            } onCancel: {
                ledger.finish(.clientCancelled)
            }
        }
        return HTTPAnswers.eventStream(requestID: call.requestID, entity: call.entity.config.name, body: body)
    }

    /// Writes chunks; false when the client has gone.
    private static func send(_ chunks: [UpstreamChunk], to writer: inout any ResponseBodyWriter, ledger: StreamLedger) async -> Bool {
        for chunk in chunks {
            do {
                try await writer.write(ByteBuffer(string: "data: \(chunk.text)\n\n"))
            } catch {
                return false
            }
            ledger.sent(chunk.text, contentDelta: ChatCompletionText.delta(ofChunk: chunk.json))
        }
        return true
    }

    private static func relay(
        _ chunks: UpstreamChunkStream, to writer: inout any ResponseBodyWriter, ledger: StreamLedger, returnTrace: Bool,
        governor: StreamGovernor?
    ) async {
        var governor = governor
        do {
            while let chunk = try await chunks.next() {
                if let usage = chunk.json["usage"], let reported = TokenEstimator.reported(in: usage) {
                    ledger.reportUsage(reported)
                }
                var step = StreamGovernor.Step.relay([chunk])
                if var active = governor {
                    step = await active.pass(chunk)
                    // Noted as it goes, so a stream that ends early still records what was applied.
                    if active.screensOutput { ledger.noteGuardrails(active.allFindings) }
                    governor = active
                }
                switch step {
                case .relay(let out):
                    guard await send(out, to: &writer, ledger: ledger) else { return ledger.finish(.clientCancelled) }
                case .cut(let out, let end):
                    return await cut(out, end: end, to: &writer, ledger: ledger, governor: governor)
                }
            }
            if var active = governor {
                let step = active.finish()
                governor = active
                switch step {
                case .relay(let out):
                    guard await send(out, to: &writer, ledger: ledger) else { return ledger.finish(.clientCancelled) }
                    ledger.noteGuardrails(active.findings)
                case .cut(let out, let end):
                    return await cut(out, end: end, to: &writer, ledger: ledger, governor: governor)
                }
            }
            if returnTrace {
                let payload: JSONValue = ["object": "chat.completion.chunk", "choices": [], "databricks_output": ["trace": ledger.clientTrace()]]
                let text = payload.jsonText
                if (try? await writer.write(ByteBuffer(string: "data: \(text)\n\n"))) != nil { ledger.sent(text) }
            }
            try? await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            ledger.finish(.done)
        } catch {
            let payload = GatewayError(error).envelope.jsonText
            let written = (try? await writer.write(ByteBuffer(string: "data: \(payload)\n\n"))) != nil
            if written { ledger.sent(payload) }
            ledger.finish(written ? (error.code == .timeout ? .timeout : .upstreamError) : .clientCancelled)
        }
        try? await writer.finish(nil)
    }

    /// Ends a stream the governor cut: what may still go out, the reason, `[DONE]`.
    private static func cut(
        _ chunks: [UpstreamChunk], end: StreamEnd, to writer: inout any ResponseBodyWriter, ledger: StreamLedger, governor: StreamGovernor?
    ) async {
        ledger.noteGuardrails(governor?.allFindings ?? [])
        guard await send(chunks, to: &writer, ledger: ledger) else { return ledger.finish(.clientCancelled) }
        if end == .rateLimited {
            let payload = StreamCut.budgetSpent.envelope.jsonText
            guard (try? await writer.write(ByteBuffer(string: "data: \(payload)\n\n"))) != nil else { return ledger.finish(.clientCancelled) }
            ledger.sent(payload)
        }
        try? await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
        ledger.finish(end)
        try? await writer.finish(nil)
    }
}

/// Why a governed stream stopped early.
enum StreamCut {
    /// The error event of a stream whose rate-limit tokens ran out.
    static let budgetSpent = GatewayError(
        code: .rateLimitExceeded, status: 429,
        message: "The stream was stopped: the endpoint's token rate limit was reached while the answer streamed."
    )
}
