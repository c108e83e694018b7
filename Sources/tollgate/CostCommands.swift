import ArgumentParser
import Foundation
import TollgateCore
import TollgateStore

extension CostGrouping: ExpressibleByArgument {}

/// `tollgate cost` — what endpoints cost.
struct Cost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Token and compute cost.", subcommands: [Report.self])

    /// `tollgate cost report` — token and compute cost side by side.
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Token cost (endpoint_usage.cost_usd) and compute cost (compute_usage) by endpoint, version, requester or day."
        )

        enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

        @OptionGroup var storeOptions: StoreOptions

        @Option(name: .long, help: "Group by endpoint, version, requester or day.")
        var by: CostGrouping = .endpoint

        @Option(name: .long, help: "Only rows at or after this UTC time or date (e.g. 2026-11-01).")
        var since: String?

        @Option(name: .long, help: "table, json or csv.")
        var format: Format = .table

        func run() async throws {
            let report = try await storeOptions.withDatabase { try await CostQueries(database: $0).report(by: by, since: since) }
            switch format {
            case .json: print(Self.json(report).jsonText)
            case .csv: printCSV(report)
            case .table: printTable(report)
            }
        }

        private func printTable(_ report: CostReport) {
            let rows = (report.rows + [report.total]).map { row in
                [row.key, String(row.requests), String(row.inputTokens), String(row.outputTokens),
                 LifecycleText.usd(row.tokenCostUSD), LifecycleText.usd(row.computeCostUSD), LifecycleText.usd(row.totalUSD)]
            }
            print(TextTable.render(header: [report.grouping.rawValue, "requests", "input tokens", "output tokens", "token cost", "compute cost", "total"], rows: rows))
            guard !report.idle.isEmpty else { return }
            print("")
            print("versions that cost compute while serving no requests\(report.since.map { " since \($0)" } ?? ""):")
            for idle in report.idle {
                print("  \(idle.endpointName)/\(idle.entityName) (\(idle.state)): \(LifecycleText.usd(idle.computeCostUSD)) — retire it, or let retention do it")
            }
        }

        private func printCSV(_ report: CostReport) {
            print("\(report.grouping.rawValue),requests,input_tokens,output_tokens,token_cost_usd,compute_cost_usd,total_usd")
            for row in report.rows + [report.total] {
                print("\(Sql.csvField(row.key)),\(row.requests),\(row.inputTokens),\(row.outputTokens),\(row.tokenCostUSD),\(row.computeCostUSD),\(row.totalUSD)")
            }
        }

        static func json(_ report: CostReport) -> JSONValue {
            func row(_ row: CostRow) -> JSONValue {
                [
                    "key": .string(row.key), "requests": .int(row.requests), "input_tokens": .int(row.inputTokens),
                    "output_tokens": .int(row.outputTokens), "token_cost_usd": .double(row.tokenCostUSD),
                    "compute_cost_usd": .double(row.computeCostUSD), "total_usd": .double(row.totalUSD),
                ]
            }
            return [
                "by": .string(report.grouping.rawValue), "since": .optionalString(report.since),
                "rows": .array(report.rows.map(row)), "total": row(report.total),
                "idle_versions": .array(report.idle.map { idle in
                    ["endpoint_name": .string(idle.endpointName), "entity_name": .string(idle.entityName), "state": .string(idle.state), "compute_cost_usd": .double(idle.computeCostUSD)]
                }),
            ]
        }
    }
}
