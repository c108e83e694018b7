import ServiceLifecycle

/// Applies every endpoint's retention age rule periodically (the count rule runs with each update).
struct RetentionService: Service {
    let manager: EndpointManager
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await manager.enforceRetention()
            }
        }
    }
}
