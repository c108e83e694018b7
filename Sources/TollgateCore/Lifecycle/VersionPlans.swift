import Foundation

/// Why a version change cannot be made.
public struct VersionPlanError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case duplicateEntity = "duplicate_entity"
        case unknownEntity = "unknown_entity"
        case entityHasTraffic = "entity_has_traffic"
        case lastEntity = "last_entity"
        case invalidCanary = "invalid_canary"
    }

    public var code: Code
    public var message: String
    public var description: String { message }
}

/// How deploy, retire and retention change an endpoint's served entities and traffic. Pure:
/// the endpoint manager applies the results.
public enum VersionPlans {
    /// Adds `entity` and moves traffic to it: all of it, or `canary` percent with the other
    /// routes scaled down proportionally (largest remainder, so the sum stays 100).
    public static func deploy(_ current: EndpointCoreConfig, entity: ServedEntityConfig, canary: Int?) throws(VersionPlanError) -> EndpointCoreConfig {
        guard !current.servedEntities.contains(where: { $0.name == entity.name }) else {
            throw VersionPlanError(code: .duplicateEntity, message: "the endpoint already serves an entity named \(entity.name)")
        }
        let share = canary ?? 100
        guard (1...100).contains(share) else {
            throw VersionPlanError(code: .invalidCanary, message: "--canary must be between 1 and 100, got \(share)")
        }
        let existing = routes(of: current)
        let scaled = scale(existing, to: 100 - share)
        var next = current
        next.servedEntities.append(entity)
        next.trafficConfig = TrafficConfig(routes: scaled + [TrafficRoute(servedEntityName: entity.name, trafficPercentage: share)])
        return next
    }

    /// Removes a 0%-traffic entity and its route.
    public static func retire(_ current: EndpointCoreConfig, entity name: String) throws(VersionPlanError) -> EndpointCoreConfig {
        guard current.servedEntities.contains(where: { $0.name == name }) else {
            throw VersionPlanError(code: .unknownEntity, message: "the endpoint serves no entity named \(name)")
        }
        guard current.servedEntities.count > 1 else {
            throw VersionPlanError(code: .lastEntity, message: "\(name) is the endpoint's only served entity; delete the endpoint instead")
        }
        let share = routes(of: current).first { $0.servedEntityName == name }?.trafficPercentage ?? 0
        guard share == 0 else {
            throw VersionPlanError(code: .entityHasTraffic, message: "\(name) serves \(share)% of the traffic; move its traffic first (deploy or rollback)")
        }
        var next = current
        next.servedEntities.removeAll { $0.name == name }
        next.trafficConfig = TrafficConfig(routes: routes(of: current).filter { $0.servedEntityName != name })
        return next
    }

    /// A 0%-traffic entity as retention sees it.
    public struct ZeroTrafficVersion: Sendable, Equatable {
        public var name: String
        public var since: Date

        public init(name: String, since: Date) {
            self.name = name
            self.since = since
        }
    }

    /// The 0%-traffic entities retention retires, with why: beyond the newest
    /// `keep_zero_traffic_versions`, or at 0% for longer than `max_zero_traffic_age`.
    public static func retention(_ policy: RetentionConfig, zeroTraffic: [ZeroTrafficVersion], now: Date) -> [(name: String, reason: String)] {
        let newestFirst = zeroTraffic.sorted { ($0.since, $0.name) > ($1.since, $1.name) }
        var retired: [(String, String)] = []
        for (index, version) in newestFirst.enumerated() {
            if index >= max(0, policy.keepZeroTrafficVersions) {
                retired.append((version.name, "retention: beyond keep_zero_traffic_versions = \(policy.keepZeroTrafficVersions)"))
            } else if let maxAge = policy.maxZeroTrafficAgeSeconds, now.timeIntervalSince(version.since) > maxAge {
                retired.append((version.name, "retention: at 0% traffic for more than max_zero_traffic_age = \(Int(maxAge)) s"))
            }
        }
        return retired
    }

    /// The routes of a config; a lone entity without `traffic_config` has all the traffic.
    public static func routes(of config: EndpointCoreConfig) -> [TrafficRoute] {
        if let routes = config.trafficConfig?.routes { return routes }
        return config.servedEntities.count == 1 ? [TrafficRoute(servedEntityName: config.servedEntities[0].name, trafficPercentage: 100)] : []
    }

    /// Scales route percentages to sum to `total` (largest remainder); every route is kept.
    static func scale(_ routes: [TrafficRoute], to total: Int) -> [TrafficRoute] {
        // Shares are clamped to 0...100 first: validated configs already are, and no sum can overflow.
        let percentages = routes.map { min(max($0.trafficPercentage, 0), 100) }
        let sum = percentages.reduce(0, +)
        guard sum > 0 else { return routes.map { TrafficRoute(servedEntityName: $0.servedEntityName, trafficPercentage: 0) } }
        let exact = percentages.map { Double($0) * Double(total) / Double(sum) }
        var shares = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(shares[$0]), -$0) > (exact[$1] - Double(shares[$1]), -$1) }
        for index in order.prefix(total - shares.reduce(0, +)) { shares[index] += 1 }
        return zip(routes, shares).map { TrafficRoute(servedEntityName: $0.servedEntityName, trafficPercentage: $1) }
    }
}
