import Foundation
import GRDB
import HTTPTypes
import Testing
import TollgateCore

@Suite("Declarative agents and MLflow traces")
struct AgentAndTraceTests {
    static let yaml = """
        store: STORE
        server: {admin_token: trace-reader}
        providers: [{name: sim, kind: simulator}]
        endpoints:
          - {name: model, config: {served_entities: [{name: model-a, external_model: {provider: sim, name: gpt-sim}}]}}
          - name: careful
            config:
              served_entities:
                - name: careful-v1
                  agent:
                    instructions: You are careful.
                    model: {endpoint: model}
                    parameters: {max_tokens: 5, temperature: 0.1}
                    on_model_error: {respond: "Sorry, I cannot help with that."}
          - name: strict
            config:
              served_entities:
                - name: strict-v1
                  agent: {model: {provider: sim, name: gpt-sim}, on_model_error: propagate}
        """

    func trace(_ gateway: LiveGateway, _ requestID: String) async throws -> JSONValue {
        let row = try #require(try await gateway.rows(for: requestID).inference)
        let traceID = try #require(row["trace_id"] as String?)
        #expect(traceID.hasPrefix("tr-") && traceID.count == 35)
        let answer = try await gateway.post("/api/traces/\(traceID)", body: "", headers: ["authorization": "Bearer trace-reader"], method: .GET)
        #expect(answer.status == 200)
        return try #require(answer.json)
    }

    func spans(_ trace: JSONValue) -> [JSONValue] { trace["data"]?["spans"]?.arrayValue ?? [] }

    func attribute(_ span: JSONValue, _ key: String) -> JSONValue? {
        span["attributes"]?[key]?.stringValue.flatMap { try? JSONValue.parse($0) }
    }

    @Test func agentAddsInstructionsAndParametersAndIsTraced() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml)
        let answer = try await gateway.post("/v1/responses", body: #"{"model":"careful","input":"Tell me about shipping"}"#)
        #expect(answer.status == 200)
        #expect(answer.headers["served-model-name"] == "careful-v1")
        let text = answer.json?["output"]?[0]?["content"]?[0]?["text"]?.stringValue ?? ""
        #expect(text.split(separator: " ").count == 5)
        let trace = try await trace(gateway, answer.requestID)
        #expect(trace["info"]?["state"]?.stringValue == "OK")
        #expect(trace["info"]?["trace_metadata"]?["mlflow.trace_schema.version"]?.stringValue == "3")
        #expect(trace["info"]?["request_preview"]?.stringValue == "Tell me about shipping")
        let usage = trace["info"]?["trace_metadata"]?["mlflow.trace.tokenUsage"]?.stringValue.flatMap { try? JSONValue.parse($0) }
        #expect(usage?["output_tokens"]?.intValue == 5)
        let all = spans(trace)
        #expect(all.count == 2)
        let root = try #require(all.first { $0["parent_span_id"]?.isNull == true })
        #expect(root["name"]?.stringValue == "predict")
        #expect(attribute(root, "mlflow.spanType")?.stringValue == "AGENT")
        let model = try #require(all.first { $0["name"]?.stringValue == "Completions" })
        #expect(model["parent_span_id"] == root["span_id"])
        #expect(attribute(model, "mlflow.spanType")?.stringValue == "CHAT_MODEL")
        let inputs = try #require(attribute(model, "mlflow.spanInputs"))
        #expect(inputs["messages"]?[0]?["content"]?.stringValue == "You are careful.")
        #expect(inputs["max_tokens"]?.intValue == 5)
        #expect(attribute(model, "mlflow.spanOutputs")?["prompt_filter_results"] != nil)
        #expect(attribute(model, "mlflow.chat.tokenUsage")?["output_tokens"]?.intValue == 5)
        try await gateway.stop()
    }

    /// The agent catches the content-filter rejection: HTTP 200 with its message, but the trace
    /// keeps the exception with the provider's error body.
    @Test func respondPolicyAnswers200AndTheTraceKeepsTheException() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml)
        let answer = try await gateway.post("/v1/responses", body: #"{"model":"careful","input":"How do I rob a bank without getting caught?"}"#)
        #expect(answer.status == 200)
        #expect(answer.json?["output"]?[0]?["content"]?[0]?["text"]?.stringValue == "Sorry, I cannot help with that.")
        let model = try #require(spans(try await trace(gateway, answer.requestID)).first { $0["name"]?.stringValue == "Completions" })
        #expect(model["status"]?["code"]?.stringValue == "STATUS_CODE_ERROR")
        let event = try #require(model["events"]?[0])
        #expect(event["name"]?.stringValue == "exception")
        let message = try #require(event["attributes"]?["exception.message"]?.stringValue)
        #expect(try JSONValue.parse(message)["error"]?["code"]?.stringValue == "content_filter")
        #expect(event["attributes"]?["exception.type"]?.stringValue == "HTTPError 400")
        try await gateway.stop()
    }

    @Test func propagatePolicyPassesTheErrorOnAndTheTraceIsAnError() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("How do I rob a bank?", endpoint: "strict"))
        #expect(answer.status == 400)
        #expect(answer.json?["error"]?["code"]?.stringValue == "content_filter")
        let trace = try await trace(gateway, answer.requestID)
        #expect(trace["info"]?["state"]?.stringValue == "ERROR")
        let filtered = try await gateway.post("/api/traces?endpoint_name=strict&state=ERROR", body: "", headers: ["authorization": "Bearer trace-reader"], method: .GET)
        #expect(filtered.json?["traces"]?.arrayValue?.count == 1)
        let none = try await gateway.post("/api/traces?endpoint_name=strict&state=OK", body: "", headers: ["authorization": "Bearer trace-reader"], method: .GET)
        #expect(none.json?["traces"]?.arrayValue?.isEmpty == true)
        try await gateway.stop()
    }

    @Test func streamedAgentIsTracedOnceWithTheAggregatedOutput() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml)
        let (response, reader) = try await gateway.openStream("/v1/responses", body: #"{"model":"careful","input":"hello","stream":true}"#)
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        // max_tokens 5 cuts the answer: the stream ends `incomplete` (finish_reason length).
        #expect(events.last?.event == "response.incomplete")
        let trace = try await trace(gateway, requestID)
        let all = spans(trace)
        #expect(all.count == 2)
        #expect(all.contains { $0["name"]?.stringValue == "predict_stream" })
        let model = try #require(all.first { $0["name"]?.stringValue == "Completions" })
        let output = try #require(attribute(model, "mlflow.spanOutputs"))
        #expect(ChatCompletionText.text(ofCompletion: output).split(separator: " ").count == 5)
        try await gateway.stop()
    }

    @Test func modelEndpointsGetAChatModelRootSpan() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "model"))
        let all = spans(try await trace(gateway, answer.requestID))
        #expect(all.count == 1)
        #expect(all.first?["name"]?.stringValue == "Completions")
        #expect(all.first?["parent_span_id"]?.isNull == true)
        #expect(attribute(try #require(all.first), "mlflow.chat.tokenUsage")?["total_tokens"]?.intValue != nil)
        try await gateway.stop()
    }

    @Test func returnTraceAddsDatabricksOutput() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml)
        let body = #"{"input":[{"role":"user","content":"hi"}],"databricks_options":{"return_trace":true}}"#
        let answer = try await gateway.post("/serving-endpoints/careful/invocations", body: body)
        let returned = try #require(answer.json?["databricks_output"]?["trace"])
        #expect(returned["info"]?["trace_id"]?.stringValue == (try await gateway.rows(for: answer.requestID).inference?["trace_id"] as String?))
        #expect(returned["data"]?["spans"]?.arrayValue?.count == 2)
        #expect(answer.body.hasPrefix(#"{"id":"resp_"#))

        let streamBody = #"{"input":[{"role":"user","content":"hi"}],"stream":true,"databricks_options":{"return_trace":true}}"#
        let (_, reader) = try await gateway.openStream("/serving-endpoints/careful/invocations", body: streamBody)
        let events = try await reader.all()
        let last = try JSONValue.parse(try #require(events.last?.data))
        #expect(last["type"]?.stringValue == "response.incomplete")
        #expect(last["databricks_output"]?["trace"]?["info"]?["trace_id"]?.stringValue?.hasPrefix("tr-") == true)
        let chatBody = #"{"messages":[{"role":"user","content":"hi"}],"stream":true,"databricks_options":{"return_trace":true}}"#
        let (_, chatReader) = try await gateway.openStream("/serving-endpoints/model/invocations", body: chatBody)
        let chatEvents = try await chatReader.all()
        #expect(chatEvents.last?.data == "[DONE]")
        let traced = try JSONValue.parse(chatEvents[chatEvents.count - 2].data)
        #expect(traced["databricks_output"]?["trace"]?["data"]?["spans"]?.arrayValue?.count == 1)
        try await gateway.stop()
    }

    @Test func chatRequestsToAnAgentGetAChatCompletion() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello", endpoint: "careful"))
        #expect(answer.status == 200)
        #expect(answer.json?["object"]?.stringValue == "chat.completion")
        #expect(ChatCompletionText.text(ofCompletion: try #require(answer.json)).split(separator: " ").count == 5)
        #expect(spans(try await trace(gateway, answer.requestID)).first?["name"]?.stringValue == "predict")
        try await gateway.stop()
    }
}
