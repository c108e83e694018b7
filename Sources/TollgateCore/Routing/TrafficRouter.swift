/// Picks the served entity for a request by the endpoint's weighted traffic split.
public struct TrafficRouter: Sendable {
    /// Entity names with their cumulative upper bounds in 1...100.
    private let buckets: [(name: String, upper: Int)]
    private let fallbackName: String

    public init(endpoint: EndpointConfig) {
        var upper = 0
        var buckets: [(String, Int)] = []
        for route in endpoint.config.trafficConfig?.routes ?? [] where route.trafficPercentage > 0 {
            upper += route.trafficPercentage
            buckets.append((route.servedEntityName, upper))
        }
        self.buckets = buckets
        self.fallbackName = endpoint.config.servedEntities.first?.name ?? ""
    }

    /// The entity for a draw `roll` in 1...100 (uniform draws give the configured split).
    public func entityName(roll: Int) -> String {
        buckets.first { roll <= $0.upper }?.name ?? fallbackName
    }

    /// The entity for a fresh random draw.
    public func pick() -> String {
        buckets.count <= 1 ? (buckets.first?.name ?? fallbackName) : entityName(roll: Int.random(in: 1...100))
    }
}
