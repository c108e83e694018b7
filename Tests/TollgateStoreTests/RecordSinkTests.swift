import Foundation
import Logging
import Testing
import TollgateCore
import TollgateStore

/// The record writer's path into each backend: batches, duplicates, the spill file.
@Suite("Record sinks, on SQLite and PostgreSQL")
struct RecordSinkTests {
    static func record(_ index: Int, traced: Bool = false) -> InferenceRecord {
        var record = InferenceRecord(
            requestID: "req-\(index)", requestTime: Date(timeIntervalSince1970: 1_767_323_045 + Double(index)), endpointName: "chat",
            api: .chat, stream: index % 2 == 0, statusCode: 200
        )
        record.servedEntityName = "entity-a"
        record.request = #"{"messages":[{"role":"user","content":"hello \#(index)"}]}"#
        record.response = #"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#
        record.usage = .reported(input: 3, output: 2)
        record.requester = index % 3 == 0 ? nil : "alice@example.com"
        if traced {
            record.trace = TraceRecord(
                traceHex: String(format: "%032x", index), requestID: record.requestID, clientRequestID: nil, endpointName: "chat",
                requestTime: record.requestTime, executionDurationMs: 5, state: .ok, requestPreview: "hello", responsePreview: "hi",
                spans: [
                    SpanRecord(spanID: String(format: "%016x", 1), parentSpanID: nil, name: "predict", type: .agent, startNanos: 1, endNanos: 9),
                    SpanRecord(
                        spanID: String(format: "%016x", 2), parentSpanID: String(format: "%016x", 1), name: "Completions",
                        type: .chatModel, startNanos: 2, endNanos: 8, outputsJSON: record.response
                    ),
                ]
            )
            record.traceID = record.trace?.traceID
        }
        return record
    }

    @Test(arguments: StoreBackend.allCases)
    func batchesFromTheWriterLeaveOneRowPerRecordAndTable(_ backend: StoreBackend) async throws {
        try await backend.withStore { backendStore in
            let store = backendStore.records
            let writer = RecordWriter(store: store, payloadLimit: 1 << 20, batchSize: 1000, logger: Logger(label: "tollgate.test.writer"))
            // More rows than one PostgreSQL statement binds (1,200 inference rows), in three batches.
            for index in 0..<2_500 { writer.enqueue(Self.record(index, traced: index % 10 == 0)) }
            await writer.drain()
            #expect(writer.failure == nil)
            var counts: [RecordTable: Int] = [:]
            for table in [RecordTable.inferenceTable, .endpointUsage, .traces, .spans] { counts[table] = try await store.count(of: table) }
            #expect(counts == [.inferenceTable: 2_500, .endpointUsage: 2_500, .traces: 250, .spans: 500])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aRecordWrittenTwiceKeepsOneRowAndUsageIsResolved(_ backend: StoreBackend) async throws {
        try await backend.withStore { backendStore in
            let store = backendStore.records
            let usage = try await store.write([Self.record(1), Self.record(1), Self.record(2)], payloadLimit: 1 << 20)
            #expect(usage.map { $0?.input } == [3, 3, 3])
            #expect(usage.map { $0?.output } == [2, 2, 2])
            _ = try await store.write([Self.record(2)], payloadLimit: 1 << 20)
            #expect(try await store.count(of: .inferenceTable) == 2)
            #expect(try await store.count(of: .endpointUsage) == 2)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func spilledRecordsAreRestoredOnceAndTheSpillFileRemoved(_ backend: StoreBackend) async throws {
        try await backend.withStore { backendStore in
            let store = backendStore.records
            let spill = RecordSpill(path: store.spillPath, maxBytes: 64 << 20)
            try spill.append((0..<300).map { Self.record($0, traced: $0 % 3 == 0) }, payloadLimit: 1 << 20)
            // One of them reached the store before it failed: restoring keeps it once.
            _ = try await store.write([Self.record(0, traced: true)], payloadLimit: 1 << 20)
            #expect(spill.exists)
            #expect(try await store.restore(spill) == 300)
            #expect(!spill.exists)
            #expect(try await store.count(of: .inferenceTable) == 300)
            #expect(try await store.count(of: .traces) == 100)
            #expect(try await store.count(of: .spans) == 200)
            #expect(try await store.restore(spill) == 0)
        }
    }
}
