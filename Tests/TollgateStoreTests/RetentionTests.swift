import Foundation
import Testing
import TollgateCore
import TollgatePostgres
import TollgateStore

/// `store.retention_days`: bounded deletes on SQLite, whole day partitions on PostgreSQL.
@Suite("Retention, on SQLite and PostgreSQL")
struct RetentionTests {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30T00:53:20Z

    /// A traced record at `time`, its spans at the same time.
    static func record(_ id: String, at time: Date) -> InferenceRecord {
        var record = RecordSinkTests.record(0, traced: true)
        record.requestID = id
        record.requestTime = time
        let nanos = UInt64(time.timeIntervalSince1970) * 1_000_000_000
        record.trace?.requestID = id
        record.trace?.traceHex = String(id.utf8.reduce(into: "") { $0 += String(format: "%02x", $1) }.suffix(32)).padding(toLength: 32, withPad: "0", startingAt: 0)
        record.trace?.requestTime = time
        if let spans = record.trace?.spans {
            record.trace?.spans = spans.map { span in
                var moved = span
                moved.startNanos = nanos + span.startNanos
                moved.endNanos = nanos + span.endNanos
                return moved
            }
        }
        record.traceID = record.trace?.traceID
        return record
    }

    static func counts(_ store: StoreUnderTest) async throws -> [RecordTable: Int] {
        var counts: [RecordTable: Int] = [:]
        for table in [RecordTable.inferenceTable, .endpointUsage, .traces, .spans] { counts[table] = try await store.records.count(of: table) }
        return counts
    }

    @Test(arguments: StoreBackend.allCases)
    func rowsOlderThanTheRetentionGoAndTheRestStay(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let old = Self.now.addingTimeInterval(-40 * 86_400)
            let partitions = (store.database as? any TransactionalDatabase).map { PostgresPartitions(database: $0) }
            try await partitions?.ensure(now: old)
            _ = try await store.records.write((0..<30).map { Self.record("old-\($0)", at: old.addingTimeInterval(Double($0))) }, payloadLimit: 1 << 20)
            try await partitions?.ensure(now: Self.now)
            _ = try await store.records.write((0..<20).map { Self.record("new-\($0)", at: Self.now.addingTimeInterval(Double($0))) }, payloadLimit: 1 << 20)
            #expect(try await Self.counts(store) == [.inferenceTable: 50, .endpointUsage: 50, .traces: 50, .spans: 100])

            let cutoff = RetentionDeletes.cutoff(days: 30, now: Self.now)
            #expect(UTCTimestamp.iso8601(cutoff) == "2026-10-31T00:00:00.000Z")
            if let partitions {
                let oldDay = "p" + String(UTCTimestamp.iso8601(old).prefix(10)).replacingOccurrences(of: "-", with: "")
                #expect(try await partitions.partitions(of: "inference_table").contains("inference_table_\(oldDay)"))
                let dropped = try await partitions.dropExpired(before: cutoff)
                #expect(dropped.contains("inference_table_\(oldDay)") && dropped.contains("spans_\(oldDay)"))
                #expect(try await partitions.partitions(of: "endpoint_usage").allSatisfy { $0 >= "endpoint_usage_p20261031" })
                // Nothing old was left to delete row by row: it was all in the dropped partitions.
                #expect(try await store.database.read("SELECT count(*) AS n FROM inference_table_default").first?.int("n") == 0)
            } else {
                _ = try await RetentionDeletes(database: store.database, batchRows: 7).delete(RetentionDeletes.all, olderThan: cutoff)
            }
            #expect(try await Self.counts(store) == [.inferenceTable: 20, .endpointUsage: 20, .traces: 20, .spans: 40])
            #expect(try await store.traces.traceJSON(id: "new-3") != nil)
            #expect(try await store.traces.traceJSON(id: "old-3") == nil)
        }
    }

    @Test func rowsOutsideThePreparedDaysWaitInTheDefaultPartitionAndMoveWhenTheirDayComes() async throws {
        try await StoreBackend.postgres.withStore { store in
            let partitions = PostgresPartitions(database: try #require(store.database as? any TransactionalDatabase))
            let later = Self.now.addingTimeInterval(10 * 86_400)
            try await partitions.ensure(now: Self.now)
            _ = try await store.records.write([Self.record("early", at: later)], payloadLimit: 1 << 20)
            #expect(try await store.database.read("SELECT count(*) AS n FROM inference_table_default").first?.int("n") == 1)
            try await partitions.ensure(now: later)
            #expect(try await store.database.read("SELECT count(*) AS n FROM inference_table_default").first?.int("n") == 0)
            #expect(try await store.records.count(of: .inferenceTable) == 1)
            // Two replicas preparing the same days at once.
            async let first: Void = partitions.ensure(now: later)
            async let second: Void = partitions.ensure(now: later)
            _ = try await (first, second)
        }
    }
}
