import Foundation
import Testing

@testable import TollgateCore

@Suite("MLflow v3 trace JSON")
struct MLflowTraceJSONTests {
    let trace = TraceRecord(
        traceHex: "0123456789abcdef0123456789abcdef", requestID: "req-1", clientRequestID: nil, endpointName: "agent",
        requestTime: Date(timeIntervalSince1970: 1_767_323_045.5), executionDurationMs: 42, state: .error,
        requestPreview: "hi", responsePreview: "sorry",
        spans: [
            SpanRecord(
                spanID: "00000000000000aa", parentSpanID: "00000000000000ff", name: "Completions", type: .chatModel,
                startNanos: 2_000, endNanos: 3_000, status: .error, statusMessage: "blocked", inputsJSON: #"{"messages":[]}"#,
                tokenUsage: TokenCounts(input: 3, output: 4),
                events: [SpanEvent.exception(type: "HTTPError 400", message: #"{"error":{"code":"content_filter"}}"#, at: 2_500)]
            ),
            SpanRecord(spanID: "00000000000000ff", parentSpanID: nil, name: "predict", type: .agent, startNanos: 1_000, endNanos: 4_000),
        ]
    )

    @Test func infoHasMLflowKeysOnly() throws {
        let info = try #require(MLflowTraceJSON.document(trace)["info"]?.objectValue)
        #expect(Set(info.keys) == [
            "trace_id", "client_request_id", "trace_location", "request_time", "execution_duration_ms", "state",
            "trace_metadata", "tags", "request_preview", "response_preview",
        ])
        #expect(info["trace_id"]?.stringValue == "tr-0123456789abcdef0123456789abcdef")
        #expect(info["request_time"]?.stringValue == "2026-01-02T03:04:05.500Z")
        #expect(info["execution_duration_ms"]?.intValue == 42)
        #expect(info["state"]?.stringValue == "ERROR")
        #expect(info["trace_metadata"]?["mlflow.trace_schema.version"]?.stringValue == "3")
        let usage = try JSONValue.parse(try #require(info["trace_metadata"]?["mlflow.trace.tokenUsage"]?.stringValue))
        #expect(usage == ["input_tokens": 3, "output_tokens": 4, "total_tokens": 7])
        #expect(info["tags"]?["mlflow.traceName"]?.stringValue == "predict")
    }

    @Test func spansUseBase64IdsAndJSONEncodedAttributes() throws {
        let spans = try #require(MLflowTraceJSON.document(trace)["data"]?["spans"]?.arrayValue)
        #expect(spans.count == 2)
        let root = spans[0]
        #expect(root["name"]?.stringValue == "predict")
        #expect(root["parent_span_id"] == .null)
        #expect(root["span_id"]?.stringValue == "AAAAAAAAAP8=")
        #expect(root["trace_id"]?.stringValue == "ASNFZ4mrze8BI0VniavN7w==")
        #expect(root["attributes"]?["mlflow.spanType"]?.stringValue == "\"AGENT\"")
        #expect(root["attributes"]?["mlflow.traceRequestId"]?.stringValue == "\"tr-0123456789abcdef0123456789abcdef\"")
        let child = spans[1]
        #expect(child["parent_span_id"]?.stringValue == "AAAAAAAAAP8=")
        #expect(child["status"] == ["code": "STATUS_CODE_ERROR", "message": "blocked"])
        #expect(child["start_time_unix_nano"]?.intValue == 2_000)
        #expect(child["attributes"]?["mlflow.spanInputs"]?.stringValue == #"{"messages":[]}"#)
        let event = try #require(child["events"]?[0])
        #expect(event["name"]?.stringValue == "exception")
        #expect(event["attributes"]?["exception.message"]?.stringValue == #"{"error":{"code":"content_filter"}}"#)
        #expect(MLflowTraceJSON.document(trace).jsonText.contains(#""time_unix_nano":2500"#))
    }
}
