import ArgumentParser
import Foundation
import TollgateCore
import TollgatePipeline
import TollgateStore

/// Where a batch command finds the store: `--store URL`, or the `store:` of `--config FILE`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file whose `store:` is used.")
    var config: String?

    @Option(name: .long, help: "Store URL (sqlite:PATH or postgres://user:password@host:port/database); default sqlite:tollgate.db.")
    var store: String?

    /// The store as a SQLite file, for the commands that read SQLite only (the pipeline's).
    func open() throws -> SQLiteStore {
        try SQLiteStore.open(url: try url())
    }

    /// Runs `body` with the store, whichever backend it is.
    func withDatabase<Result>(_ body: (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await StoreBackends.withDatabase(url: try url(), body)
    }

    func url() throws -> String {
        if let store { return store }
        if let config { return try ConfigFile.load(config).store }
        return "sqlite:tollgate.db"
    }

    /// The SQLite file of the store (for read-only connections).
    func sqlitePath() throws -> String {
        let url = try url()
        guard url.hasPrefix("sqlite:") else { throw ValidationError("tollgate sql reads sqlite: stores") }
        return String(url.dropFirst("sqlite:".count))
    }

    /// The `pipeline:` section of `--config`, or the defaults.
    func pipelineConfig() throws -> PipelineConfig {
        guard let config else { return PipelineConfig() }
        return try ConfigFile.load(config).pipeline
    }

    /// The probe prompts: `pipeline.probe_prompts` of `--config` over the defaults.
    func probeCases() throws -> [Probe.Case] {
        let prompts = try pipelineConfig().probePrompts
        return Probe.defaultCases.map { probeCase in
            var probeCase = probeCase
            if let prompt = prompts[probeCase.expected] { probeCase.prompt = prompt }
            return probeCase
        }
    }
}

/// `tollgate traces` — reads stored traces.
struct Traces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read stored MLflow traces.", subcommands: [List.self, Show.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List traces, newest first.")

        @OptionGroup var storeOptions: StoreOptions

        @Option(name: .long, help: "Only this endpoint.")
        var endpoint: String?

        @Option(name: .long, help: "Only this state: OK or ERROR.")
        var state: String?

        @Option(name: .long, help: "Only traces at or after this time (ISO-8601, e.g. 2026-11-25 or 2026-11-25T08:00:00Z).")
        var since: String?

        @Option(name: .long, help: "Only traces before this time (ISO-8601).")
        var until: String?

        @Option(name: .long, help: "At most this many traces.")
        var limit: Int = 20

        func run() async throws {
            let filter = TraceFilter(endpointName: endpoint, state: state, since: since, until: until, limit: limit)
            let traces = try await storeOptions.withDatabase { try await TraceQueries(database: $0).traces(matching: filter) }
            let rows = traces.map { trace in
                [
                    trace.traceID, trace.requestTime, trace.endpointName, trace.state,
                    trace.executionDurationMs.map { "\($0) ms" } ?? "", String((trace.requestPreview ?? "").prefix(40)),
                ]
            }
            print(TextTable.render(header: ["trace_id", "request_time", "endpoint", "state", "duration", "request"], rows: rows))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one trace as MLflow JSON.")

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "Trace id (tr-…) or request id.")
        var id: String

        func run() async throws {
            guard let json = try await storeOptions.withDatabase({ try await TraceQueries(database: $0).traceJSON(id: id) }) else {
                var stderr = StandardError()
                print("no trace \(id)", to: &stderr)
                throw ExitCode(1)
            }
            print(json)
        }
    }
}

/// Fixed-width text tables for terminal output.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}
