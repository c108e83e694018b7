import Foundation
import GRDB
import Testing
import TollgateCore

/// Another process holding the store's write lock, as `sqlite3` or a backup tool would: a real
/// Python process in `BEGIN EXCLUSIVE` until it is released.
final class StoreLockHolder {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            sys.stdin.read()
            db.execute("ROLLBACK")
            """,
            path,
        ]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).hasPrefix("locked") else { throw CocoaError(.fileLocking) }
    }

    func release() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

@Suite("The store refuses writes: rows are spilled, health says so, rows come back")
struct StoreFailureTests {
    func health(_ gateway: LiveGateway) async throws -> LiveGateway.Answer {
        try await gateway.post("/health/ready", body: "", method: .GET)
    }

    func waitForHealth(_ gateway: LiveGateway, status: Int) async throws -> LiveGateway.Answer {
        var answer = try await health(gateway)
        for _ in 0..<300 where answer.status != status {
            try await Task.sleep(for: .milliseconds(50))
            answer = try await health(gateway)
        }
        return answer
    }

    @Test func rowsWrittenWhileAnotherProcessHoldsTheLockAreSpilledThenRestored() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator(limits: "store_busy_timeout_seconds: 0.2"))
        #expect(try await health(gateway).status == 200)
        let holder = try StoreLockHolder(path: gateway.dbPath)
        var ids: [String] = []
        for index in 0..<6 {
            let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("spill \(index)"))
            #expect(answer.status == 200)
            ids.append(answer.requestID)
        }
        let failing = try await waitForHealth(gateway, status: 503)
        #expect(failing.status == 503)
        #expect(failing.json?["status"]?.stringValue == "unavailable")
        let reason = failing.json?["reason"]?.stringValue ?? ""
        #expect(reason.contains("store writes failing since"))
        #expect(reason.contains("locked"))
        #expect(failing.json?["store"]?["writes"]?.stringValue == "failing")
        let spillPath = gateway.dbPath + ".spill"
        #expect(FileManager.default.fileExists(atPath: spillPath))
        let mode = try FileManager.default.attributesOfItem(atPath: spillPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Health turns 503 at the first failed batch; the writer may still be spilling the rest.
        for _ in 0..<300 where try await health(gateway).json?["store"]?["spilled_records"]?.intValue != 6 {
            try await Task.sleep(for: .milliseconds(50))
        }
        holder.release()

        let recovered = try await waitForHealth(gateway, status: 200)
        #expect(recovered.status == 200)
        #expect(recovered.json?["store"]?["restored_records"]?.intValue == 6)
        #expect(recovered.json?["store"]?["lost_records"]?.intValue == 0)
        for id in ids { #expect(try await gateway.rows(for: id).inference != nil) }
        #expect(try gateway.count("inference_table") == 6)
        #expect(!FileManager.default.fileExists(atPath: spillPath))
        // Requests after recovery go straight to the store again.
        let after = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("after"))
        #expect(try await gateway.rows(for: after.requestID).inference != nil)
        try await gateway.stop()
        #expect(gateway.runtime.recordStatistics?.lost == 0)
    }

    @Test func recordsTheSpillCannotTakeAreCountedAsLost() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator(limits: "store_busy_timeout_seconds: 0.2"))
        // A directory where the spill file would go: the spill cannot be created.
        try FileManager.default.createDirectory(atPath: gateway.dbPath + ".spill", withIntermediateDirectories: false)
        let holder = try StoreLockHolder(path: gateway.dbPath)
        for index in 0..<3 {
            #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("lost \(index)")).status == 200)
        }
        var failing = try await waitForHealth(gateway, status: 503)
        for _ in 0..<100 where failing.json?["store"]?["lost_records"]?.intValue != 3 {
            try await Task.sleep(for: .milliseconds(50))
            failing = try await health(gateway)
        }
        #expect(failing.json?["store"]?["lost_records"]?.intValue == 3)
        holder.release()
        try FileManager.default.removeItem(atPath: gateway.dbPath + ".spill")
        #expect(try await waitForHealth(gateway, status: 200).status == 200)
        try await gateway.stop()
    }
}
