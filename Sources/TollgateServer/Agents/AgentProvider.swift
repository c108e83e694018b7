import Foundation
import NIOCore
import TollgateCore
import TollgateProviders

/// A declarative agent seen as a chat provider: it adds its instructions and parameters to the
/// conversation, calls its model, and applies its error policy. Each model call becomes a
/// CHAT_MODEL span under the request's AGENT span. Built per request (it holds the trace).
struct AgentProvider: ChatProvider {
    let agent: AgentConfig
    let model: ModelTarget
    let trace: RequestTrace

    func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamReply {
        guard let chat = try? JSONValue.parse(request.body.readableBytesView).objectValue,
              let (provider, upstreamModel) = model.pick()
        else {
            throw UpstreamError(code: .invalidResponse, message: "agent request is not a chat request")
        }
        let body = AgentPrompt.modelRequest(chat, agent: agent, upstreamModel: upstreamModel)
        let bodyText = JSONValue.object(body).jsonText
        let start = TraceIDs.nowNanos()
        let call = UpstreamRequest(body: ByteBuffer(string: bodyText), stream: request.stream, requestID: request.requestID)
        let reply: UpstreamReply
        do {
            reply = try await provider.send(call)
        } catch {
            let message = error.rawBody ?? error.message
            trace.addModelCall(
                parent: trace.rootSpanID, start: start, inputs: bodyText, outputs: nil, usage: nil,
                error: ("UpstreamError.\(error.code.rawValue)", message), upstreamModel: upstreamModel, stream: request.stream
            )
            if case .respond(let text) = agent.onModelError { return AgentReplies.canned(text, stream: request.stream, model: upstreamModel) }
            throw error
        }
        switch reply {
        case .complete(let status, let responseBody):
            let text = String(buffer: responseBody)
            let ok = (200..<300).contains(status)
            let usage = ok ? (try? JSONValue.parse(text))?["usage"].flatMap(TokenEstimator.reported(in:)) : nil
            trace.addModelCall(
                parent: trace.rootSpanID, start: start, inputs: bodyText, outputs: ok ? text : nil,
                usage: usage.map { TokenCounts(input: $0.input, output: $0.output) },
                error: ok ? nil : ("HTTPError \(status)", text), upstreamModel: upstreamModel, stream: request.stream
            )
            if !ok, case .respond(let message) = agent.onModelError {
                return AgentReplies.canned(message, stream: request.stream, model: upstreamModel)
            }
            return reply
        case .stream(let chunks):
            let span = StreamSpan(trace: trace, parent: trace.rootSpanID, start: start, inputs: bodyText, upstreamModel: upstreamModel)
            return .stream(span.watching(chunks))
        }
    }
}

/// Which model an agent calls: a provider's model, or whichever entity another endpoint's
/// traffic split picks.
struct ModelTarget: Sendable {
    let pick: @Sendable () -> (any ChatProvider, String)?
}
