import Foundation
import Logging
import ServiceLifecycle

/// Runs the store's housekeeping (`GatewayStore.maintain`) at start and every `interval`, off
/// the request path: retention, and on PostgreSQL the coming days' partitions.
struct StoreMaintenance: Service {
    let maintain: @Sendable (_ retentionDays: Int?, _ now: Date) async throws -> String?
    let retentionDays: Int?
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                do {
                    if let done = try await maintain(retentionDays, Date()) {
                        logger.info("store retention applied", metadata: ["retention_days": "\(retentionDays ?? 0)", "done": "\(done)"])
                    }
                } catch {
                    logger.error("store maintenance failed; retried later", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
