import Logging
import ServiceLifecycle
import TollgateCore
import TollgateStore

/// Runs the pipeline every `pipeline.interval_seconds` inside `tollgate serve`.
public struct PipelineService: Service {
    let runner: PipelineRunner
    let interval: Duration
    let logger: Logger

    public init(store: SQLiteStore, config: PipelineConfig, logger: Logger) {
        runner = PipelineRunner(store: store, config: config, logger: logger)
        interval = .seconds(config.intervalSeconds)
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully else { return }
            let started = ContinuousClock.now
            do {
                // A run reads and writes the store for seconds: on a thread of its own, never on the event loops.
                let summary = try await BlockingWork.run { [runner] () throws(PipelineError) in try runner.run() }
                if summary.inputRows > 0 {
                    let seconds = Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000
                    logger.info("pipeline update", metadata: [
                        "rows": "\(summary.inputRows)", "written": "\(summary.outputRows)", "seconds": "\(seconds)",
                    ])
                }
            } catch {
                logger.error("pipeline update failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
