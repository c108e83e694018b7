import AsyncHTTPClient
import Foundation
import Logging
import TollgateCore
import TollgateProviders
#if canImport(Glibc)
import Glibc
#endif

/// One model-server process of a local model: started on demand, health-checked, stopped on
/// request or when idle, and noticed when it dies.
actor LocalModelServer {
    let label: String
    let config: LocalModelConfig
    let logger: Logger
    /// Where the running server listens (unset while stopped).
    let url = LateBoundURL()
    private let logPath: String
    private var process: Process?
    private var starting: Task<Void, any Error>?
    private var generation = 0
    private var stopping = false
    /// Set by `shutdown()`: the server never starts again.
    private var closed = false
    private(set) var startedAt: Date?
    private(set) var starts = 0
    private(set) var crashes = 0
    /// CPU seconds of the processes that already ended.
    private var endedCPUSeconds = 0.0
    private var lastSample: ProcessSample?

    init(label: String, config: LocalModelConfig, logger: Logger) {
        self.label = label
        self.config = config
        self.logger = logger
        let directory = NSTemporaryDirectory() + "tollgate-local-models"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logPath = directory + "/\(label.replacingOccurrences(of: "/", with: "_")).log"
    }

    var isRunning: Bool { process?.isRunning == true && starting == nil && url.value != nil }
    var pid: Int32? { process.map(\.processIdentifier) }

    /// Starts the server unless it runs; returns once it answers its health check.
    func ensureRunning() async throws(UpstreamError) {
        if isRunning { return }
        guard !closed else { throw Self.closedError(label) }
        if starting == nil {
            let task = Task { try await self.start() }
            starting = task
        }
        do {
            try await starting?.value
        } catch let error as UpstreamError {
            throw error
        } catch {
            throw UpstreamError(code: .connectFailed, message: "local model \(label) did not start: \(error)")
        }
    }

    private func start() async throws {
        defer { starting = nil }
        let port = try FreePort.pick()
        let arguments = config.commandLine(host: "127.0.0.1", port: port)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        child.arguments = arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        child.standardOutput = log
        child.standardError = log
        child.standardInput = FileHandle.nullDevice
        generation += 1
        let current = generation
        child.terminationHandler = { [weak self] ended in
            let status = ended.terminationStatus
            Task { await self?.exited(generation: current, status: status) }
        }
        // Shut down while this start waited for the actor: start nothing.
        guard !closed, !Task.isCancelled else { throw Self.closedError(label) }
        do {
            try child.run()
        } catch {
            throw UpstreamError(code: .connectFailed, message: "local model \(label): cannot run \(arguments.joined(separator: " ")): \(error)")
        }
        process = child
        stopping = false
        starts += 1
        logger.info("local model starting", metadata: ["model": "\(label)", "pid": "\(child.processIdentifier)", "port": "\(port)"])
        let base = "http://127.0.0.1:\(port)"
        let deadline = ContinuousClock.now + .milliseconds(Int64(config.startupTimeoutSeconds * 1000))
        while ContinuousClock.now < deadline {
            if Task.isCancelled {
                // `shutdown()`: it terminates the process, from a task that can still wait for
                // the SIGTERM grace period (sleeps in this cancelled one would return at once).
                stopping = true
                throw UpstreamError(code: .connectFailed, message: "local model \(label) was stopped while starting")
            }
            guard child.isRunning else {
                throw UpstreamError(code: .connectFailed, message: "local model \(label) exited while starting: \(logTail())")
            }
            if await Self.healthy(base) {
                url.set(base + "/v1")
                startedAt = Date()
                lastSample = nil
                logger.info("local model ready", metadata: ["model": "\(label)", "pid": "\(child.processIdentifier)"])
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        await terminate(child)
        throw UpstreamError(code: .timeout, message: "local model \(label) did not answer its health check within \(Int(config.startupTimeoutSeconds)) s: \(logTail())")
    }

    /// Stops the server for good (the gateway stops, the entity was retired): a start in
    /// progress is cut short — its waiting requests get an error instead of the stop waiting up
    /// to the startup timeout — and no later request starts it again.
    func shutdown() async {
        closed = true
        if let starting {
            stopping = true
            starting.cancel()
        }
        await stop()
    }

    static func closedError(_ label: String) -> UpstreamError {
        UpstreamError(code: .connectFailed, message: "local model \(label) was stopped while starting")
    }

    /// Stops the process (SIGTERM, then SIGKILL after 5 s), after a start in progress ended.
    func stop() async {
        if let starting { _ = try? await starting.value }
        guard let child = process else { return }
        stopping = true
        url.clear()
        await terminate(child)
        logger.info("local model stopped", metadata: ["model": "\(label)"])
    }

    private var failedChecks = 0

    /// Health-checks a running server; after three failed checks in a row (a hung server) it
    /// is stopped and counted as a crash, to be started again like one that died.
    func checkHealth() async {
        guard isRunning, let base = url.value.map({ String($0.dropLast("/v1".count)) }) else { failedChecks = 0; return }
        if await Self.healthy(base) {
            failedChecks = 0
            return
        }
        failedChecks += 1
        guard failedChecks >= 3 else { return }
        failedChecks = 0
        crashes += 1
        logger.warning("local model stopped answering its health check; restarting it", metadata: ["model": "\(label)"])
        await stop()
    }

    /// CPU seconds so far (all processes), resident memory and uptime of the running one.
    func sample() -> ProcessSample? {
        guard let child = process, child.isRunning, let current = ProcessSample.read(pid: child.processIdentifier) else { return nil }
        lastSample = current
        return ProcessSample(cpuSeconds: endedCPUSeconds + current.cpuSeconds, rssBytes: current.rssBytes)
    }

    /// CPU seconds of every process this server ran, ended ones included.
    var totalCPUSeconds: Double { endedCPUSeconds + (lastSample?.cpuSeconds ?? 0) }

    private func exited(generation ended: Int, status: Int32) {
        guard ended == generation else { return }
        endedCPUSeconds += lastSample?.cpuSeconds ?? 0
        lastSample = nil
        process = nil
        startedAt = nil
        url.clear()
        if !stopping {
            crashes += 1
            logger.warning("local model exited unexpectedly", metadata: ["model": "\(label)", "status": "\(status)", "log": "\(logTail())"])
        }
    }

    private func terminate(_ child: Process) async {
        _ = sample()
        child.terminate()
        for _ in 0..<50 where child.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        if child.isRunning { kill(child.processIdentifier, SIGKILL) }
        for _ in 0..<20 where child.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
    }

    private func logTail() -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no output)" }
        let text = String(decoding: data.suffix(600), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "(no output)" : text
    }

    private static func healthy(_ base: String) async -> Bool {
        var request = HTTPClientRequest(url: base + "/v1/models")
        request.method = .GET
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status.code == 200
    }
}

/// A process's CPU time and resident memory, from `/proc`.
struct ProcessSample: Sendable, Equatable {
    var cpuSeconds: Double
    var rssBytes: Int

    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"),
              let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        // Fields after the command name: state is field 3, utime 14 and stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let pages = statm.split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]),
              pages.count > 1, let resident = Int(pages[1]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(cpuSeconds: (user + system) / ticks, rssBytes: resident * Int(sysconf(Int32(_SC_PAGESIZE))))
    }
}

/// A free TCP port on 127.0.0.1, found by binding port 0.
enum FreePort {
    static func pick() throws(UpstreamError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw UpstreamError(code: .connectFailed, message: "no socket for a local model port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else { throw UpstreamError(code: .connectFailed, message: "no free port for a local model") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
