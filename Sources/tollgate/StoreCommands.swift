import ArgumentParser
import Foundation
import TollgateStore

/// `tollgate store …`
struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move a store.", subcommands: [Copy.self])

    /// `tollgate store copy --from sqlite:PATH --to postgres://…`
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite store into another store (PostgreSQL), then check every table's row count."
        )

        @Option(name: .long, help: "The store to copy: sqlite:PATH.")
        var from: String

        @Option(name: .long, help: "Where to: postgres://user:password@host:port/database (migrated first).")
        var to: String

        func run() async throws {
            guard from.hasPrefix("sqlite:") else { throw ValidationError("--from must be a sqlite:PATH store") }
            let path = String(from.dropFirst("sqlite:".count))
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no store at \(path)") }
            let source = try SQLiteStore.open(url: from)
            let bar = ProgressBar()
            let counts = try await StoreBackends.withDatabase(url: to) { destination in
                try await StoreCopy(source: source, destination: destination).run { table, copied, total in
                    bar.show(table, copied, total)
                }
            }
            bar.finish()
            let rows = counts.map { [$0.table, String($0.source), String($0.destination), $0.complete ? "ok" : "MISSING ROWS"] }
            print(TextTable.render(header: ["table", "source rows", "destination rows", "check"], rows: rows))
            guard counts.allSatisfy(\.complete) else { throw ExitCode(1) }
        }
    }
}

/// A one-line progress bar on standard error when it is a terminal; otherwise one line per table.
final class ProgressBar {
    private let interactive = isatty(STDERR_FILENO) != 0
    private var current: String?
    private var stderr = StandardError()

    func show(_ label: String, _ done: Int, _ total: Int) {
        if interactive {
            if label != current, current != nil { print("", to: &stderr) }
            let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
            let filled = Int((fraction * 30).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
            print("\r\(label.padding(toLength: 24, withPad: " ", startingAt: 0)) [\(bar)] \(done)/\(total)", terminator: "", to: &stderr)
        } else if done == total {
            print("\(label): \(done)/\(total) rows", to: &stderr)
        }
        current = label
    }

    func finish() {
        if interactive && current != nil { print("", to: &stderr) }
    }
}
