import Hummingbird
import NIOCore
import TollgateCore
import TollgateProviders
import TollgateStore

/// Relays a Chat Completions stream event by event as it arrives, recording every payload sent.
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
        let body = ResponseBody { writer in
            await withTaskCancellationHandler {
                await Self.relay(chunks, to: &writer, ledger: ledger, returnTrace: returnTrace)
            } onCancel: {
                ledger.finish(.clientCancelled)
            }
        }
        return HTTPAnswers.eventStream(requestID: call.requestID, entity: call.entity.config.name, body: body)
    }

    private static func relay(
        _ chunks: UpstreamChunkStream, to writer: inout any ResponseBodyWriter, ledger: StreamLedger, returnTrace: Bool
    ) async {
        do {
            while let chunk = try await chunks.next() {
                if let usage = chunk.json["usage"], let reported = TokenEstimator.reported(in: usage) {
                    ledger.reportUsage(reported)
                }
                do {
                    try await writer.write(ByteBuffer(string: "data: \(chunk.text)\n\n"))
                } catch {
                    ledger.finish(.clientCancelled)
                    return
                }
                ledger.sent(chunk.text, contentDelta: ChatCompletionText.delta(ofChunk: chunk.json))
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
}
