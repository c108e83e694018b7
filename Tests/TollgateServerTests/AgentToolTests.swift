import Foundation
import HTTPTypes
import Testing
import TollgateCore

@Suite("Agent tools over MCP (stdio)")
struct AgentToolTests {
    static var serverScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools/mcp/orders_server.py").path
    }

    static func yaml(maxSteps: Int = 3) -> String {
        """
        store: STORE
        server: {admin_token: trace-reader}
        providers: [{name: sim, kind: simulator}]
        endpoints:
          - name: orders
            config:
              served_entities:
                - name: orders-v1
                  agent:
                    instructions: You help customers with their orders.
                    model: {provider: sim, name: gpt-sim}
                    tools: [{mcp: {command: [python3, "\(serverScript)"]}}]
                    max_steps: \(maxSteps)
        """
    }

    func spans(_ gateway: LiveGateway, _ requestID: String) async throws -> [JSONValue] {
        let traceID = try #require(try await gateway.rows(for: requestID).inference?["trace_id"] as String?)
        let trace = try #require(try await gateway.post("/api/traces/\(traceID)", body: "", headers: ["authorization": "Bearer trace-reader"], method: .GET).json)
        return trace["data"]?["spans"]?.arrayValue ?? []
    }

    func type(_ span: JSONValue) -> String? {
        span["attributes"]?["mlflow.spanType"]?.stringValue.flatMap { try? JSONValue.parse($0) }?.stringValue
    }

    @Test func agentCallsTheToolAndAnswersWithItsResult() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml())
        let answer = try await gateway.post("/v1/responses", body: #"{"model":"orders","input":"Please lookup_order for order A-1001"}"#)
        #expect(answer.status == 200)
        let text = answer.json?["output"]?[0]?["content"]?[0]?["text"]?.stringValue ?? ""
        #expect(text.contains("shipped"))
        let all = try await spans(gateway, answer.requestID)
        #expect(all.compactMap(type) == ["AGENT", "CHAT_MODEL", "TOOL", "CHAT_MODEL"])
        let tool = try #require(all.first { type($0) == "TOOL" })
        #expect(tool["name"]?.stringValue == "lookup_order")
        #expect(tool["attributes"]?["mlflow.spanInputs"]?.stringValue == #"{"order_id":"A-1001"}"#)
        // The second model call got the tool result back.
        let second = try #require(all.last)
        let inputs = try JSONValue.parse(try #require(second["attributes"]?["mlflow.spanInputs"]?.stringValue))
        let messages = inputs["messages"]?.arrayValue ?? []
        #expect(messages.last?["role"]?.stringValue == "tool")
        #expect(messages.last?["content"]?.stringValue?.contains("shipped") == true)
        #expect(messages[messages.count - 2]["tool_calls"]?[0]?["function"]?["name"]?.stringValue == "lookup_order")
        try await gateway.stop()
    }

    @Test func streamedAgentContinuesAcrossTheToolCall() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml())
        let body = #"{"model":"orders","input":"Please lookup_order for order A-1002","stream":true}"#
        let (response, reader) = try await gateway.openStream("/v1/responses", body: body)
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        #expect(events.last?.event == "response.completed")
        let done = events.first { $0.event == "response.output_item.done" }.flatMap { try? JSONValue.parse($0.data) }
        #expect(done?["item"]?["content"]?[0]?["text"]?.stringValue?.contains("processing") == true)
        #expect(!events.contains { $0.event?.contains("function_call") == true })
        let all = try await spans(gateway, requestID)
        #expect(all.compactMap(type) == ["AGENT", "CHAT_MODEL", "TOOL", "CHAT_MODEL"])
        #expect(all.first?["name"]?.stringValue == "predict_stream")
        try await gateway.stop()
    }

    @Test func toolLoopStopsAtMaxSteps() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml(maxSteps: 1))
        let answer = try await gateway.post("/v1/responses", body: #"{"model":"orders","input":"Please lookup_order for order A-1001"}"#)
        #expect(answer.status == 200)
        let all = try await spans(gateway, answer.requestID)
        #expect(all.compactMap(type) == ["AGENT", "CHAT_MODEL"])
        let inputs = try JSONValue.parse(try #require(all.last?["attributes"]?["mlflow.spanInputs"]?.stringValue))
        #expect(inputs["tools"] == nil)
        try await gateway.stop()
    }
}
