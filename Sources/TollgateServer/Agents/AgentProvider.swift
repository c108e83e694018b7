import Foundation
import NIOCore
import TollgateCore
import TollgateProviders

/// A declarative agent seen as a chat provider: it adds its instructions and parameters to the
/// conversation, calls its model, runs the tools the model asks for (feeding results back, up to
/// `max_steps` model calls), and applies its error policy. Each model call is a CHAT_MODEL span
/// and each tool call a TOOL span under the request's AGENT span. Built per request.
struct AgentProvider: ChatProvider {
    let agent: AgentConfig
    let model: ModelTarget
    let toolbox: AgentToolbox?
    let trace: RequestTrace

    func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamReply {
        guard let chat = try? JSONValue.parse(request.body.readableBytesView).objectValue, let target = model.pick() else {
            throw UpstreamError(code: .invalidResponse, message: "agent request is not a chat request")
        }
        var conversation = AgentConversation(
            base: AgentPrompt.modelRequest(chat, agent: agent, upstreamModel: target.1),
            tools: await toolDefinitions(), maxSteps: agent.maxSteps
        )
        if request.stream {
            let driver = AgentStreamDriver(provider: self, target: target, conversation: conversation, requestID: request.requestID)
            return try await driver.start()
        }
        while true {
            let (reply, completion) = try await call(target, body: conversation.nextRequest(stream: false), requestID: request.requestID, stream: false)
            guard let message = completion?["choices"]?[0]?["message"],
                  let calls = message["tool_calls"]?.arrayValue,
                  conversation.runsItself(calls.map { $0["function"]?["name"]?.stringValue ?? "" })
            else { return reply }
            conversation.append(assistant: message)
            for toolCall in calls { conversation.append(toolResult: await runTool(toolCall), for: toolCall) }
        }
    }

    /// One model call, traced, with the error policy applied; a successful whole reply comes
    /// with its parsed body (parsed once, for the trace's usage and the caller's tool calls).
    func call(
        _ target: (any ChatProvider, String), body: JSONObject, requestID: String, stream: Bool
    ) async throws(UpstreamError) -> (reply: UpstreamReply, completion: JSONValue?) {
        let (provider, upstreamModel) = target
        let bodyText = JSONValue.object(body).jsonText
        let start = TraceIDs.nowNanos()
        let reply: UpstreamReply
        do {
            reply = try await provider.send(UpstreamRequest(body: ByteBuffer(string: bodyText), stream: stream, requestID: requestID))
        } catch {
            trace.addModelCall(
                parent: trace.rootSpanID, start: start, inputs: bodyText, outputs: nil, usage: nil,
                error: ("UpstreamError.\(error.code.rawValue)", error.rawBody ?? error.message), upstreamModel: upstreamModel, stream: stream
            )
            if case .respond(let text) = agent.onModelError { return (AgentReplies.canned(text, stream: stream, model: upstreamModel), nil) }
            throw error
        }
        switch reply {
        case .complete(let status, let responseBody, _):
            let text = String(buffer: responseBody)
            let ok = (200..<300).contains(status)
            let completion = ok ? try? JSONValue.parse(text) : nil
            let usage = completion?["usage"].flatMap(TokenEstimator.reported(in:))
            trace.addModelCall(
                parent: trace.rootSpanID, start: start, inputs: bodyText, outputs: ok ? text : nil,
                usage: usage.map { TokenCounts(input: $0.input, output: $0.output) },
                error: ok ? nil : ("HTTPError \(status)", text), upstreamModel: upstreamModel, stream: stream
            )
            if !ok, case .respond(let message) = agent.onModelError {
                return (AgentReplies.canned(message, stream: stream, model: upstreamModel), nil)
            }
            return (reply, completion)
        case .stream(let chunks):
            let span = StreamSpan(trace: trace, parent: trace.rootSpanID, start: start, inputs: bodyText, upstreamModel: upstreamModel)
            return (.stream(span.watching(chunks)), nil)
        }
    }

    /// Runs one tool call of the model's, as a TOOL span.
    func runTool(_ toolCall: JSONValue) async -> String {
        let name = toolCall["function"]?["name"]?.stringValue ?? ""
        let arguments = toolCall["function"]?["arguments"]?.stringValue ?? "{}"
        let start = TraceIDs.nowNanos()
        let result = await toolbox?.call(name: name, argumentsJSON: arguments) ?? ToolResult(output: "Tool error: no tools configured", isError: true)
        let end = TraceIDs.nowNanos()
        trace.add(SpanRecord(
            spanID: TraceIDs.spanHex(), parentSpanID: trace.rootSpanID, name: name.isEmpty ? "tool" : name, type: .tool,
            startNanos: start, endNanos: end, status: result.isError ? .error : .ok, statusMessage: result.isError ? result.output : "",
            inputsJSON: arguments, outputsJSON: JSONValue.quoted(result.output),
            attributes: ["gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": .string(name)],
            events: result.isError ? [SpanEvent.exception(type: "ToolError", message: result.output, at: end)] : []
        ))
        return result.output
    }

    private func toolDefinitions() async -> [JSONValue] {
        guard let toolbox else { return [] }
        do {
            return try await toolbox.toolDefinitions()
        } catch {
            trace.add(SpanRecord(
                spanID: TraceIDs.spanHex(), parentSpanID: trace.rootSpanID, name: "list_tools", type: .tool,
                startNanos: TraceIDs.nowNanos(), endNanos: TraceIDs.nowNanos(), status: .error, statusMessage: error.message,
                events: [SpanEvent.exception(type: "ToolError", message: error.message, at: TraceIDs.nowNanos())]
            ))
            return []
        }
    }
}

/// Which model an agent calls: a provider's model, or whichever entity another endpoint's
/// traffic split picks.
struct ModelTarget: Sendable {
    let pick: @Sendable () -> (any ChatProvider, String)?
}
