import Foundation
import GRDB
import Logging
import Testing
import TollgateCore
@testable import TollgatePipeline
import TollgatePostgres
import TollgateStore

/// The pipeline on PostgreSQL: runs on several machines split the queue, never process a row
/// twice, and write what a single SQLite run writes, row for row.
@Suite("Pipeline on PostgreSQL")
struct DistributedPipelineTests {
    static let logger = Logger(label: "pipeline-test")

    /// Builtin expectations plus one of each action, so quarantine and drops have rows too.
    static let config = PipelineConfig(batchSize: 97, expectations: [
        ExpectationConfig(name: "no_server_errors", dataset: .goldRequests, constraint: "status_code < 500", onViolation: .quarantine),
        ExpectationConfig(name: "drop_cancelled", dataset: .silverEvents, constraint: "stream_end IS NOT 'client_cancelled'", onViolation: .drop),
        ExpectationConfig(name: "warn_streams", dataset: .goldRequests, constraint: "stream = 0", onViolation: .warn),
    ])

    @Test func twoRunsSplitTheQueueAndWriteWhatASQLiteRunWrites() async throws {
        let sqlite = try Fixtures.store()
        try Self.insertMixedBronze(into: sqlite)
        let bronze = try await Self.count("inference_table", in: sqlite)
        try await PostgresScratch.withDatabase { first, second in
            // Pages of 60 rows: one queue entry per page, as one per record-writer batch.
            _ = try await StoreCopy(source: sqlite, destination: first, pageRows: 60).run { _, _, _ in }
            let single = try PipelineRunner(store: sqlite, config: Self.config, logger: Self.logger).run()
            async let a = DistributedPipelineRunner(database: first, config: Self.config, logger: Self.logger).run()
            async let b = DistributedPipelineRunner(database: second, config: Self.config, logger: Self.logger).run()
            let (left, right) = try await (a, b)
            #expect(left.inputRows > 0 && right.inputRows > 0, "both runs took batches: \(left.inputRows) + \(right.inputRows)")
            #expect(left.inputRows + right.inputRows == bronze)
            #expect(try await Self.count("pipeline_queue", in: first) == 0)
            let events = try await first.read(
                "SELECT details FROM pipeline_events WHERE event_type = 'flow_progress'", []
            ).compactMap { try? JSONValue.parse($0.text("details") ?? "") }
            #expect(events.compactMap { $0["flow_progress"]?["metrics"]?["num_input_rows"]?.intValue }.reduce(0, +) == bronze)
            for (name, result) in single.expectations {
                let passed = (left.expectations[name]?.passed ?? 0) + (right.expectations[name]?.passed ?? 0)
                let failed = (left.expectations[name]?.failed ?? 0) + (right.expectations[name]?.failed ?? 0)
                #expect(passed == result.passed && failed == result.failed, "\(name)")
            }
            #expect(single.droppedRows > 0 && single.quarantinedRows > 0)
            for (table, except) in Self.compared {
                let expected = try await Self.rows(table, except: except, in: sqlite)
                let actual = try await Self.rows(table, except: except, in: first)
                #expect(!expected.isEmpty, "\(table)")
                #expect(actual.count == expected.count, "\(table): \(actual.count) rows on PostgreSQL, \(expected.count) on SQLite")
                let differing = zip(actual, expected).first { $0 != $1 }
                #expect(differing == nil, "\(table): PostgreSQL \(differing?.0 ?? [:]) but SQLite \(differing?.1 ?? [:])")
            }
        }
    }

    /// A batch another run holds is skipped, and comes back to the queue when that run dies.
    @Test func aHeldClaimIsSkippedAndReturnsWhenItsRunDies() async throws {
        let sqlite = try Fixtures.store()
        try Fixtures.insert(Fixtures.cycledCases(300, tag: "held"), into: sqlite)
        try await PostgresScratch.withDatabase { first, second in
            _ = try await StoreCopy(source: sqlite, destination: first, pageRows: 50).run { _, _, _ in }
            // A bronze row removed (retention) while queued leaves the queue without a gold row.
            try await first.write("DELETE FROM inference_table WHERE request_id = ?", [.text("predict-valid-held0")])
            struct RunDied: Error {}
            let other = DistributedPipelineRunner(database: second, config: PipelineConfig(batchSize: 50), logger: Self.logger)
            await #expect(throws: RunDied.self) {
                try await first.transaction(timeout: .seconds(60)) { transaction in
                    let claim = try await QueuedBronzeReader.claim(100, in: transaction)
                    #expect(claim.claimedIDs.count == 100 && claim.rows.count == 99)
                    #expect(try await other.run().inputRows == 200)
                    throw RunDied()
                }
            }
            #expect(try await Self.queued(in: first) == 100)
            #expect(try await other.run().inputRows == 99)
            #expect(try await Self.count("pipeline_queue", in: first) == 0)
            #expect(try await Self.count("gold_requests", in: first) == 299)
            #expect(try await other.run(fullRefresh: true).inputRows == 299)
            #expect(try await Self.count("gold_requests", in: first) == 299)
        }
    }

    /// A `fail` expectation stops the update, rolls its batch back and leaves the rows queued.
    @Test func aFailingExpectationLeavesTheBatchQueued() async throws {
        let sqlite = try Fixtures.store()
        try Fixtures.insert(Fixtures.fiveCases, into: sqlite)
        try await PostgresScratch.withDatabase { first, _ in
            _ = try await StoreCopy(source: sqlite, destination: first).run { _, _, _ in }
            let strict = PipelineConfig(expectations: [
                ExpectationConfig(name: "no_blocks", dataset: .goldRequests, constraint: "outcome <> 'blocked'", onViolation: .fail),
            ])
            await #expect(throws: PipelineError.self) {
                try await DistributedPipelineRunner(database: first, config: strict, logger: Self.logger).run()
            }
            #expect(try await Self.queued(in: first) == 5)
            #expect(try await Self.count("gold_requests", in: first) == 0)
            let failed = try await first.read("SELECT message FROM pipeline_events WHERE event_type = 'update_failed'", [])
            #expect(failed.first?.text("message")?.contains("no_blocks") == true)
            let status = try await PipelineStatus.read(first)
            #expect(status.updates.first?.failed == true && status.pendingRows == 5 && status.bronzeRows == 5)
        }
    }

    /// Tables compared, and the columns that may differ: a silver row's bronze position (rowid
    /// on SQLite, queue entry on PostgreSQL) and when and from which position a row was
    /// quarantined.
    static let compared: [(String, Set<String>)] = [
        ("gold_requests", []), ("gold_filter_results", []), ("silver_events", ["source_rowid"]),
        ("quarantine", ["quarantined_at", "row_json"]),
    ]

    /// Every row of a table without the excepted columns, sorted (collations differ by backend).
    static func rows(_ table: String, except: Set<String>, in database: any SQLDatabase) async throws -> [[String: StoreValue]] {
        let rows = try await database.read("SELECT * FROM \(table)", []).map { row in
            Dictionary(uniqueKeysWithValues: zip(row.columns, row.values).filter { !except.contains($0.0) })
        }
        return rows.map { row in ("\(row.sorted { $0.key < $1.key }.map(\.value))", row) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Bronze rows waiting in the queue's entries.
    static func queued(in database: any SQLDatabase) async throws -> Int {
        try await database.read("SELECT COALESCE(sum(row_count), 0) AS n FROM pipeline_queue", []).first?.int("n") ?? 0
    }

    static func count(_ table: String, in database: any SQLDatabase) async throws -> Int {
        try await database.read("SELECT count(*) AS n FROM \(table)", []).first?.int("n") ?? 0
    }

    /// Bronze rows of every shape the pipeline knows, some with stored traces (one span failed
    /// with an exception event, one span's outputs kept in the response).
    static func insertMixedBronze(into store: SQLiteStore) throws {
        try Fixtures.insert(Fixtures.cycledCases(1_200, tag: "mix"), into: store)
        try Fixtures.insert(Fixtures.otherShapes + [Fixtures.Row(id: "agent", response: Fixtures.agentCaught, api: "responses")], into: store)
        let exception = #"[{"name":"exception","time_unix_nano":2,"attributes":{"exception.type":"BadRequestError","exception.message":"Error code: 400 - {'error': {'code': 'content_filter', 'param': 'prompt', 'innererror': {'content_filter_result': {'violence': {'filtered': True, 'severity': 'high'}}}}}"}}]"#
        try store.pool.write { db in
            for index in stride(from: 0, to: 1_200, by: 40) {
                let requestID = "\(Fixtures.fiveCases[index % 5].id)-mix\(index)", traceID = "tr-\(index)"
                try db.execute(sql: "UPDATE inference_table SET trace_id = ?, api = 'responses' WHERE request_id = ?", arguments: [traceID, requestID])
                try db.execute(
                    sql: "INSERT INTO traces (trace_id, request_id, endpoint_name, request_time, state, input_tokens, output_tokens) VALUES (?, ?, 'ep', '2026-11-25T10:00:00.000Z', 'OK', 7, 3)",
                    arguments: [traceID, requestID]
                )
                for (span, type, failed) in [("a", "AGENT", false), ("b", "CHAT_MODEL", index % 80 == 0), ("c", "TOOL", false)] {
                    try db.execute(
                        sql: """
                            INSERT INTO spans (trace_id, span_id, name, span_type, start_time_unix_nano, end_time_unix_nano, status_code,
                              outputs, outputs_from_response, attributes, events) VALUES (?, ?, ?, ?, 1, 2, ?, ?, ?, '{}', ?)
                            """,
                        arguments: [
                            traceID, span, span, type, failed ? "STATUS_CODE_ERROR" : "STATUS_CODE_OK", type == "TOOL" ? #"{"ok":true}"# : nil,
                            type == "AGENT" ? 1 : 0, failed ? exception : "[]",
                        ]
                    )
                }
            }
        }
    }
}

/// A throwaway database on the test script's PostgreSQL (`TOLLGATE_TEST_POSTGRES_URL`), opened
/// by two clients as two machines would.
enum PostgresScratch {
    static func withDatabase(_ body: (PostgresStore, PostgresStore) async throws -> Void) async throws {
        let server = try #require(
            ProcessInfo.processInfo.environment["TOLLGATE_TEST_POSTGRES_URL"], "set TOLLGATE_TEST_POSTGRES_URL (scripts/test.sh starts PostgreSQL and sets it)"
        )
        let name = "p_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await PostgresAdmin.execute(url: server, sql: "CREATE DATABASE \(name)")
        var components = try #require(URLComponents(string: server))
        components.path = "/" + name
        let url = try #require(components.string)
        let directory = NSTemporaryDirectory()
        let first = try PostgresStore(url: url, spillDirectory: directory, logger: DistributedPipelineTests.logger)
        let second = try PostgresStore(url: url, spillDirectory: directory, logger: DistributedPipelineTests.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await first.run() }
            group.addTask { try await second.run() }
            defer { group.cancelAll() }
            try await first.migrate()
            try await body(first, second)
        }
        try await PostgresAdmin.execute(url: server, sql: "DROP DATABASE \(name) WITH (FORCE)")
    }
}
