import Foundation
import Hummingbird
import NIOCore
import TollgateCore
import TollgateProviders
import TollgateStore

/// Turns a Chat Completions stream into the Responses API event sequence as chunks arrive.
struct ResponsesStreamRelay: Sendable {
    let call: InferenceCall
    let request: JSONObject
    let chunks: UpstreamChunkStream
    let writer: RecordWriter
    let start: ContinuousClock.Instant

    func response() -> Response {
        var record = call.record
        record.statusCode = 200
        let ledger = StreamLedger(call: call, record: record, upstreamStart: start, writer: writer)
        let builder = ResponsesStreamBuilder(
            responseID: Identifiers.hex(prefix: "resp_"), model: call.endpoint.config.name,
            createdAt: Int(Date().timeIntervalSince1970), request: request
        )
        let chunks = self.chunks
        let inputEstimate = TokenEstimator.estimateInput(call.record.request)
        let returnTrace = call.returnTrace
        let dataOnly = call.record.api == .invocations
        let governor = StreamGovernor(governance: call.governance)
        let active = governor.isActive
        let body = ResponseBody { writer in
            await withTaskCancellationHandler {
                var builder = builder
                var sink = EventSink(writer: writer, dataOnly: dataOnly)
                await Self.relay(
                    chunks, builder: &builder, to: &sink, ledger: ledger, inputEstimate: inputEstimate, returnTrace: returnTrace,
                    governor: active ? governor : nil
                )
            } onCancel: {
                ledger.finish(.clientCancelled)
            }
        }
        return HTTPAnswers.eventStream(requestID: call.requestID, entity: call.entity.config.name, body: body)
    }

    /// Writes events; returns false when the client has gone. `contentDelta` is the text these
    /// events add, noted with the first of them that carries text.
    private static func send(
        _ events: [ServerSentEvent], contentDelta: String = "", to sink: inout EventSink, ledger: StreamLedger
    ) async -> Bool {
        var pending = contentDelta
        for event in events {
            do {
                try await sink.writer.write(ByteBuffer(string: sink.dataOnly ? event.dataOnlyEncoded : event.encoded))
            } catch {
                return false
            }
            let delta = event.event == "response.output_text.delta" ? pending : ""
            if !delta.isEmpty { pending = "" }
            ledger.sent(event.data, contentDelta: delta)
        }
        return true
    }

    private static func relay(
        _ chunks: UpstreamChunkStream, builder: inout ResponsesStreamBuilder, to writer: inout EventSink,
        ledger: StreamLedger, inputEstimate: Int, returnTrace: Bool, governor: StreamGovernor?
    ) async {
        guard await send(builder.start(), to: &writer, ledger: ledger) else { return ledger.finish(.clientCancelled) }
        var usage: TokenUsage?
        var governor = governor
        var end = StreamEnd.done
        do {
            reading: while let chunk = try await chunks.next() {
                if let value = chunk.json["usage"], let reported = TokenEstimator.reported(in: value) {
                    usage = reported
                    ledger.reportUsage(reported)
                }
                var step = StreamGovernor.Step.relay([chunk])
                if var active = governor {
                    step = await active.pass(chunk)
                    // Noted as it goes, so a stream that ends early still records what was applied.
                    if active.screensOutput { ledger.noteGuardrails(active.allFindings) }
                    governor = active
                }
                let (out, cut) = Self.split(step)
                for item in out {
                    let events = builder.consume(chunk: item.json)
                    let delta = ChatCompletionText.delta(ofChunk: item.json)
                    guard await send(events, contentDelta: delta, to: &writer, ledger: ledger) else { return ledger.finish(.clientCancelled) }
                }
                if let cut {
                    end = cut
                    break reading
                }
            }
            if end == .done, var active = governor {
                let (out, cut) = Self.split(active.finish())
                governor = active
                for item in out {
                    guard await send(builder.consume(chunk: item.json), contentDelta: ChatCompletionText.delta(ofChunk: item.json), to: &writer, ledger: ledger)
                    else { return ledger.finish(.clientCancelled) }
                }
                if let cut { end = cut }
            }
            ledger.noteGuardrails(governor?.allFindings ?? [])
            if end == .rateLimited {
                let sent = await send(builder.fail(StreamCut.budgetSpent.envelope), to: &writer, ledger: ledger)
                ledger.finish(sent ? .rateLimited : .clientCancelled)
                try? await writer.writer.finish(nil)
                return
            }
            let fallback = usage == nil ? (input: inputEstimate, output: TokenEstimator.estimate(builder.text)) : nil
            var closing = builder.finish(fallbackUsage: fallback)
            if returnTrace, let last = closing.indices.last,
               let withTrace = JSONFieldPatch.appendingMember("databricks_output", ["trace": ledger.clientTrace()], to: closing[last].data) {
                closing[last].data = withTrace
            }
            guard await send(closing, to: &writer, ledger: ledger) else {
                return ledger.finish(.clientCancelled)
            }
            if let final = builder.finalResponse { ledger.keepResponse(final) }
            ledger.finish(end)
        } catch {
            let sent = await send(builder.fail(GatewayError(error).envelope), to: &writer, ledger: ledger)
            ledger.finish(sent ? (error.code == .timeout ? .timeout : .upstreamError) : .clientCancelled)
        }
        try? await writer.writer.finish(nil)
    }

    private static func split(_ step: StreamGovernor.Step) -> ([UpstreamChunk], StreamEnd?) {
        switch step {
        case .relay(let out): (out, nil)
        case .cut(let out, let end): (out, end)
        }
    }
}

/// Where a Responses stream's events go: the response body, with or without `event:` names.
struct EventSink {
    var writer: any ResponseBodyWriter
    let dataOnly: Bool
}
