import Logging
import ServiceLifecycle
import TollgateCore
import TollgateStore

/// One pipeline update over a store: `PipelineRunner` on SQLite, `DistributedPipelineRunner` on
/// a store that replicas share.
public protocol PipelineUpdater: Sendable {
    func update(fullRefresh: Bool) async throws(PipelineError) -> PipelineRunSummary
}

extension PipelineRunner: PipelineUpdater {
    /// A run reads and writes the store for seconds: on a thread of its own, never on the event loops.
    public func update(fullRefresh: Bool) async throws(PipelineError) -> PipelineRunSummary {
        try await BlockingWork.run { [self] () throws(PipelineError) in try run(fullRefresh: fullRefresh) }
    }
}

extension DistributedPipelineRunner: PipelineUpdater {
    public func update(fullRefresh: Bool) async throws(PipelineError) -> PipelineRunSummary {
        try await run(fullRefresh: fullRefresh)
    }
}

/// Runs the pipeline every `pipeline.interval_seconds` inside `tollgate serve`.
public struct PipelineService: Service {
    let updater: any PipelineUpdater
    let interval: Duration
    let logger: Logger

    public init(updater: any PipelineUpdater, config: PipelineConfig, logger: Logger) {
        self.updater = updater
        interval = .seconds(config.intervalSeconds)
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            guard !Task.isShuttingDownGracefully else { return }
            let started = ContinuousClock.now
            do {
                let summary = try await updater.update(fullRefresh: false)
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
