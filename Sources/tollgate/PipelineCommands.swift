import ArgumentParser
import Foundation
import TollgateCore
import TollgatePipeline
import TollgateStore

/// `tollgate pipeline` — bronze → silver → gold.
struct Pipeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn the inference log into silver and gold tables, with data-quality expectations.",
        subcommands: [Run.self, Status.self]
    )

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Process the bronze rows not processed yet.")

        @OptionGroup var storeOptions: StoreOptions

        @Flag(name: .long, help: "Rebuild silver and gold from all of bronze.")
        var fullRefresh = false

        func run() async throws {
            let config = try storeOptions.pipelineConfig()
            let summary: PipelineRunSummary
            do {
                summary = try await storeOptions.withDatabase { database in
                    try await Self.updater(database, config).update(fullRefresh: fullRefresh)
                }
            } catch {
                var stderr = StandardError()
                print("pipeline update failed: \(error)", to: &stderr)
                throw ExitCode(1)
            }
            print("update \(summary.updateID): \(summary.inputRows) bronze row(s) in, \(summary.outputRows) gold row(s) written, \(summary.droppedRows) dropped, \(summary.quarantinedRows) quarantined")
            let rows = summary.expectations.values.sorted { $0.name < $1.name }.map { result in
                [result.name, result.dataset, result.action, String(result.passed), String(result.failed)]
            }
            if !rows.isEmpty { print(TextTable.render(header: ["expectation", "dataset", "on_violation", "passed", "failed"], rows: rows)) }
        }

        /// The SQLite runner, or the distributed one on a store replicas share.
        static func updater(_ database: any SQLDatabase, _ config: PipelineConfig) throws -> any PipelineUpdater {
            if let sqlite = database as? SQLiteStore { return PipelineRunner(store: sqlite, config: config, logger: ConfigFile.logger()) }
            guard let shared = database as? any TransactionalDatabase else { throw ValidationError("the pipeline cannot run on \(database.displayName)") }
            return DistributedPipelineRunner(database: shared, config: config, logger: ConfigFile.logger())
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the last updates and their expectation pass rates.")

        @OptionGroup var storeOptions: StoreOptions

        @Option(name: .long, help: "How many updates to show.")
        var last: Int = 5

        func run() async throws {
            let status = try await storeOptions.withDatabase { database in try await PipelineStatus.read(database, updates: last) }
            print("bronze rows: \(status.bronzeRows), gold rows: \(status.goldRows), quarantined: \(status.quarantinedRows), pending: \(status.pendingRows)")
            for update in status.updates {
                print("")
                print("\(update.finishedAt)  update \(update.updateID)  \(update.failed ? "FAILED: \(update.message)" : "ok"): \(update.inputRows) in, \(update.outputRows) out, \(update.droppedRows) dropped")
                let rows = update.expectations.map { item -> [String] in
                    let total = item.passed + item.failed
                    let rate = total == 0 ? "-" : String(format: "%.1f%%", Double(item.passed) * 100 / Double(total))
                    return [item.name, String(item.passed), String(item.failed), rate]
                }
                if !rows.isEmpty { print(TextTable.render(header: ["expectation", "passed", "failed", "pass rate"], rows: rows)) }
            }
        }
    }
}

/// `tollgate sql` — read-only SQL over the store.
struct Sql: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sql", abstract: "Run a read-only SQL query over the store.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The query, e.g. \"SELECT outcome, COUNT(*) FROM gold_requests GROUP BY 1\".")
    var query: String

    @Flag(name: .long, help: "Print JSON (an array of objects).")
    var json = false

    @Flag(name: .long, help: "Print CSV with a header row.")
    var csv = false

    func run() async throws {
        let result: ReadOnlyQuery.Result
        do {
            let url = try storeOptions.url()
            if url.hasPrefix("sqlite:") {
                result = try ReadOnlyQuery.run(query, path: try storeOptions.sqlitePath())
            } else {
                let rows = try await storeOptions.withDatabase { try await $0.readOnly(query) }
                result = ReadOnlyQuery.Result(columns: rows.first?.columns ?? [], rows: rows.map { $0.values.map(Self.json) })
            }
        } catch {
            var stderr = StandardError()
            print("query failed: \(error)", to: &stderr)
            throw ExitCode(1)
        }
        if json {
            let objects: [JSONValue] = result.rows.map { row in
                var object = JSONObject()
                for (column, value) in zip(result.columns, row) { object[column] = value }
                return .object(object)
            }
            print(JSONValue.array(objects).jsonText)
        } else if csv {
            print(result.columns.map(Self.csvField).joined(separator: ","))
            for row in result.rows { print(row.map { Self.csvField(Self.text($0)) }.joined(separator: ",")) }
        } else {
            print(TextTable.render(header: result.columns, rows: result.rows.map { $0.map(Self.text) }))
            print("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s"))")
        }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: ""
        case .string(let text): text
        default: value.jsonText
        }
    }

    static func csvField(_ text: String) -> String { CSVText.field(text) }

    static func json(_ value: StoreValue) -> JSONValue {
        switch value {
        case .null: .null
        case .int(let int): Int(exactly: int).map(JSONValue.int) ?? .double(Double(int))
        case .real(let double): .double(double)
        case .text(let text): .string(text)
        }
    }
}

/// `tollgate probe` — produce the five inference cases through a running gateway and check them.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Send the five inference cases through the gateway, run the pipeline, and report what came out."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The endpoint to probe.")
    var endpoint: String

    @Option(name: .long, help: "The gateway's base URL.")
    var url: String = "http://127.0.0.1:8080"

    @Option(name: .long, help: "API key sent as a bearer token.")
    var key: String?

    func run() async throws {
        let probe = Probe(
            baseURL: url, endpoint: endpoint, key: key, store: try storeOptions.open(), pipeline: try storeOptions.pipelineConfig(),
            cases: try storeOptions.probeCases(), logger: ConfigFile.logger()
        )
        let entries = try await probe.run()
        let rows = entries.map { entry in
            [
                entry.expected, entry.observed ?? "-", entry.outcome ?? "-", entry.rowFound ? "yes" : "no",
                entry.fields.isEmpty ? "-" : entry.fields, entry.problem == nil ? "ok" : (entry.guardrailGap ? "GAP" : "FAIL"),
            ]
        }
        print(TextTable.render(header: ["case", "observed", "outcome", "row", "parsed fields", "result"], rows: rows))
        var stderr = StandardError()
        for entry in entries {
            if let problem = entry.problem { print("\(entry.guardrailGap ? "WARNING" : "error"): \(entry.expected): \(problem)", to: &stderr) }
        }
        if entries.contains(where: { $0.problem != nil }) { throw ExitCode(1) }
        print("all five inference cases produced, recorded and parsed")
    }
}

/// `tollgate import databricks` — load a Databricks inference-table export into bronze.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load exports from other systems into the store.", subcommands: [Databricks.self])

    struct Databricks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a Databricks inference-table export (JSON lines or CSV) into inference_table."
        )

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "The export file (.jsonl / .json lines, or .csv).")
        var file: String

        @Option(name: .long, help: "Endpoint name for rows without request_metadata.endpoint_name.")
        var endpoint: String = "databricks"

        func run() async throws {
            let summary = try DatabricksImport(store: try storeOptions.open(), endpointName: endpoint).load(path: file)
            print("\(file): \(summary.read) record(s) read, \(summary.inserted) new row(s) in inference_table")
            var stderr = StandardError()
            for problem in summary.skipped { print("skipped \(problem)", to: &stderr) }
            print("next: tollgate pipeline run")
        }
    }
}
