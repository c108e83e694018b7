import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateStore

/// Keeps local models as configured: scale-to-zero models stop after `idle_timeout_seconds`
/// without requests, always-on models are started at boot and restarted when they die or stop
/// answering their health check; every `sampleEvery` ticks their processes' CPU and memory are
/// sampled into `compute_usage` with their cost, and they are health-checked. On shutdown every
/// model process is stopped.
struct LocalModelSupervisor: Service {
    let registry: LocalModelRegistry
    let costs: CostQueries
    let pricing: [PriceConfig]
    /// This replica's name, recorded with each sample: model processes run per replica.
    let replica: String
    let logger: Logger
    var tick: Duration = .seconds(1)
    var sampleEvery = 5

    func run() async throws {
        let meter = ComputeMeter(costs: costs, pricing: pricing, replica: replica)
        try? await cancelWhenGracefulShutdown {
            var ticks = 0
            while true {
                for handle in registry.all where !handle.isRetired {
                    await keep(handle, restart: ticks % sampleEvery == 0, meter: meter)
                }
                if ticks % sampleEvery == 0 {
                    for handle in registry.all {
                        await meter.sample(handle)
                        for replica in handle.replicas { await replica.server.checkHealth() }
                    }
                }
                ticks += 1
                try await Task.sleep(for: tick)
            }
        }
        for handle in registry.all {
            await meter.sample(handle)
            await handle.shutdown()
        }
    }

    private func keep(_ handle: LocalModelHandle, restart: Bool, meter: ComputeMeter) async {
        let running = await handle.replicas.asyncContains { await $0.server.isRunning }
        if handle.scaleToZero {
            func idle() -> Bool {
                handle.activity.inFlight == 0 && handle.idleSeconds > handle.config.idleTimeoutSeconds
            }
            guard running, idle() else { return }
            await meter.sample(handle)
            guard idle() else { return }  // a request may have arrived while sampling
            logger.info("local model scales to zero", metadata: [
                "endpoint": "\(handle.endpointName)", "entity": "\(handle.entity.name)", "idle_seconds": "\(Int(handle.idleSeconds))",
            ])
            await handle.stop()
        } else if restart {
            let stopped = await handle.replicas.asyncContains { !(await $0.server.isRunning) }
            guard stopped else { return }
            Task {
                do { try await handle.prepare() } catch {
                    logger.warning("local model did not start", metadata: ["entity": "\(handle.entity.name)", "error": "\(error)"])
                }
            }
        }
    }

}

/// Turns process samples into `compute_usage` rows: the CPU seconds used since the last sample
/// of the same model and the memory held over the interval, priced by `pricing`.
final class ComputeMeter: Sendable {
    let costs: CostQueries
    let pricing: [PriceConfig]
    let replica: String
    private let previous = Mutex<[ObjectIdentifier: (cpu: Double, at: Date)]>([:])

    init(costs: CostQueries, pricing: [PriceConfig], replica: String) {
        self.costs = costs
        self.pricing = pricing
        self.replica = replica
    }

    func sample(_ handle: LocalModelHandle) async {
        let status = await handle.status()
        let now = Date()
        let last = previous.withLock { all in
            let last = all[ObjectIdentifier(handle)] ?? (0, now)
            all[ObjectIdentifier(handle)] = (status.cpuSeconds, now)
            return last
        }
        let interval = now.timeIntervalSince(last.at)
        let cpu = max(0, status.cpuSeconds - last.cpu)
        guard status.running > 0 || cpu > 0 else { return }
        let price = pricing.computePrice(localModel: handle.entity.name, handle.modelName)
        let gbSeconds = Double(status.rssBytes) / 1_000_000_000 * interval
        try? await costs.recordCompute(
            endpoint: handle.endpointName, entity: handle.entity.name, servedEntityID: handle.entity.servedEntityID, replica: replica, at: now,
            intervalSeconds: interval, cpuSeconds: cpu, rssBytes: status.rssBytes, running: status.running > 0,
            costUSD: price?.computeCost(cpuSeconds: cpu, gbSeconds: gbSeconds)
        )
    }
}

extension Sequence where Element: Sendable {
    func asyncContains(_ predicate: (Element) async -> Bool) async -> Bool {
        for element in self where await predicate(element) { return true }
        return false
    }
}
