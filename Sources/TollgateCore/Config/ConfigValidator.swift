import Foundation

/// Checks a decoded configuration for the errors that decoding cannot see; every issue names
/// the key path it is about.
public struct ConfigValidator: Sendable {
    /// Databricks' rule for endpoint names (`[A-Za-z0-9_-]{1,63}`), which keeps every endpoint
    /// reachable by its routes.
    public static func isEndpointName(_ name: String) -> Bool {
        (1...63).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    public init() {}

    public func validate(_ config: GatewayConfig) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if !(1...65535).contains(config.server.port) && config.server.port != 0 {
            issues.append(ConfigIssue(path: "server.port", message: "must be between 0 and 65535"))
        }
        if let cap = config.server.maxConnections, !(1...1_000_000).contains(cap) {
            issues.append(ConfigIssue(path: "server.max_connections", message: "must be between 1 and 1000000"))
        }
        for (key, value) in [("idle_timeout_seconds", config.server.idleTimeoutSeconds), ("body_timeout_seconds", config.server.bodyTimeoutSeconds)]
        where !(value > 0 && value <= 86_400) {
            issues.append(ConfigIssue(path: "server.\(key)", message: "must be greater than 0 and at most 86400"))
        }
        if !(config.store.hasPrefix("sqlite:") || config.store.hasPrefix("postgres://") || config.store.hasPrefix("postgresql://")) {
            issues.append(ConfigIssue(path: "store", message: "must be sqlite:PATH or postgres://…"))
        }
        if let days = config.retentionDays, !(1...36_500).contains(days) {
            issues.append(ConfigIssue(path: "store.retention_days", message: "must be between 1 and 36500"))
        }
        issues += validateLimits(config.limits)
        if config.pipeline.batchSize < 1 {
            issues.append(ConfigIssue(path: "pipeline.batch_size", message: "must be at least 1"))
        }
        if config.pipeline.intervalSeconds < 0 {
            issues.append(ConfigIssue(path: "pipeline.interval_seconds", message: "must not be negative"))
        }
        let cases: Set<String> = ["predict_valid", "predict_blocked", "stream_valid", "stream_blocked_immediately", "stream_blocked_partially"]
        for key in config.pipeline.probePrompts.keys.sorted() where !cases.contains(key) {
            issues.append(ConfigIssue(path: "pipeline.probe_prompts.\(key)", message: "not an inference case (\(cases.sorted().joined(separator: ", ")))"))
        }
        var expectationNames = Set<String>()
        for (index, expectation) in config.pipeline.expectations.enumerated() {
            if expectation.name.isEmpty || !expectationNames.insert(expectation.name).inserted {
                issues.append(ConfigIssue(path: "pipeline.expectations[\(index)].name", message: "must be a unique, non-empty name"))
            }
            if expectation.constraint.trimmingCharacters(in: .whitespaces).isEmpty || expectation.constraint.contains(";") {
                issues.append(ConfigIssue(path: "pipeline.expectations[\(index)].constraint", message: "must be one SQL boolean expression"))
            }
        }
        if let otlp = config.tracing.otlp {
            if !(otlp.endpoint.hasPrefix("http://") || otlp.endpoint.hasPrefix("https://")) {
                issues.append(ConfigIssue(path: "tracing.otlp.endpoint", message: "must start with http:// or https://"))
            }
            let positive: [(String, Double)] = [
                ("batch_size", Double(otlp.batchSize)), ("flush_interval_ms", Double(otlp.flushIntervalMs)),
                ("max_queue", Double(otlp.maxQueue)), ("max_attempts", Double(otlp.maxAttempts)), ("timeout_seconds", otlp.timeoutSeconds),
            ]
            for (key, value) in positive where !(value > 0) {
                issues.append(ConfigIssue(path: "tracing.otlp.\(key)", message: "must be greater than 0"))
            }
        }
        var providerNames = Set<String>()
        for (index, provider) in config.providers.enumerated() {
            let path = "providers[\(index)]"
            if provider.name.isEmpty { issues.append(ConfigIssue(path: "\(path).name", message: "must not be empty")) }
            if !providerNames.insert(provider.name).inserted {
                issues.append(ConfigIssue(path: "\(path).name", message: "duplicate provider name \"\(provider.name)\""))
            }
            issues += validateProvider(provider, path: path)
        }
        var endpointNames = Set<String>()
        for (index, endpoint) in config.endpoints.enumerated() {
            let path = "endpoints[\(index)]"
            if !Self.isEndpointName(endpoint.name) {
                issues.append(ConfigIssue(path: "\(path).name", message: "must be 1 to 63 letters, digits, '-' or '_'"))
            }
            if !endpointNames.insert(endpoint.name).inserted {
                issues.append(ConfigIssue(path: "\(path).name", message: "duplicate endpoint name \"\(endpoint.name)\""))
            }
            issues += validateEndpoint(endpoint, path: "\(path).config", providers: providerNames)
            if endpoint.retention.keepZeroTrafficVersions < 0 {
                issues.append(ConfigIssue(path: "\(path).retention.keep_zero_traffic_versions", message: "must not be negative"))
            }
            if let age = endpoint.retention.maxZeroTrafficAgeSeconds, !(age > 0) {
                issues.append(ConfigIssue(path: "\(path).retention.max_zero_traffic_age", message: "must be greater than 0"))
            }
        }
        issues += validatePricing(config.pricing, providers: providerNames)
        issues += validateGovernance(config)
        for (index, endpoint) in config.endpoints.enumerated() {
            for (entityIndex, entity) in endpoint.config.servedEntities.enumerated() {
                guard let agent = entity.agent else { continue }
                let path = "endpoints[\(index)].config.served_entities[\(entityIndex)].agent"
                issues += validateAgent(agent, path: path, endpoint: endpoint.name, config: config, providers: providerNames)
            }
        }
        return issues
    }

    private func validateAgent(
        _ agent: AgentConfig, path: String, endpoint: String, config: GatewayConfig, providers: Set<String>
    ) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let model = agent.model
        switch (model.endpoint, model.provider, model.name) {
        case (let target?, nil, nil):
            if target == endpoint {
                issues.append(ConfigIssue(path: "\(path).model.endpoint", message: "an agent cannot call its own endpoint"))
            } else if let other = config.endpoint(named: target) {
                if other.config.servedEntities.contains(where: { $0.agent != nil }) {
                    issues.append(ConfigIssue(path: "\(path).model.endpoint", message: "\"\(target)\" serves an agent; point agents at model endpoints"))
                }
            } else {
                issues.append(ConfigIssue(path: "\(path).model.endpoint", message: "unknown endpoint \"\(target)\""))
            }
        case (nil, let provider?, let name?):
            if !providers.contains(provider) {
                issues.append(ConfigIssue(path: "\(path).model.provider", message: "unknown provider \"\(provider)\""))
            }
            if name.isEmpty { issues.append(ConfigIssue(path: "\(path).model.name", message: "must not be empty")) }
        default:
            issues.append(ConfigIssue(path: "\(path).model", message: "give either endpoint, or provider and name"))
        }
        if agent.maxSteps < 1 {
            issues.append(ConfigIssue(path: "\(path).max_steps", message: "must be at least 1"))
        }
        for (index, tool) in agent.tools.enumerated() where tool.mcp.command.isEmpty {
            issues.append(ConfigIssue(path: "\(path).tools[\(index)].mcp.command", message: "must name a program"))
        }
        return issues
    }

    private func validateLimits(_ limits: LimitsConfig) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let positive: [(String, Double)] = [
            ("max_request_bytes", Double(limits.maxRequestBytes)),
            ("log_payload_limit_bytes", Double(limits.logPayloadLimitBytes)),
            ("max_response_bytes", Double(limits.maxResponseBytes)),
            ("upstream_timeout_seconds", limits.upstreamTimeoutSeconds),
            ("connect_timeout_seconds", limits.connectTimeoutSeconds),
            ("spill_max_bytes", Double(limits.spillMaxBytes)),
            ("store_busy_timeout_seconds", limits.storeBusyTimeoutSeconds),
            ("default_output_tokens", Double(limits.defaultOutputTokens)),
        ]
        // Upper bounds keep every value convertible to the integer types it is used as.
        for (key, value) in positive where !(value > 0 && value <= (key.hasSuffix("_seconds") ? 86_400 : 1_099_511_627_776)) {
            issues.append(ConfigIssue(path: "limits.\(key)", message: key.hasSuffix("_seconds") ? "must be greater than 0 and at most 86400" : "must be greater than 0 and at most 1 TiB"))
        }
        return issues
    }

    private func validateProvider(_ provider: ProviderConfig, path: String) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if provider.kind != .simulator {
            if provider.baseURL == nil {
                issues.append(ConfigIssue(path: "\(path).base_url", message: "required for kind \(provider.kind.rawValue)"))
            }
        }
        if let url = provider.baseURL, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            issues.append(ConfigIssue(path: "\(path).base_url", message: "must start with http:// or https://"))
        }
        if provider.kind == .azureOpenAI, provider.apiVersion == nil {
            issues.append(ConfigIssue(path: "\(path).api_version", message: "required for kind azure-openai"))
        }
        if provider.simulator != nil, provider.kind != .simulator {
            issues.append(ConfigIssue(path: "\(path).simulator", message: "only allowed for kind simulator"))
        }
        if let simulator = provider.simulator {
            if simulator.latencyMs < 0 {
                issues.append(ConfigIssue(path: "\(path).simulator.latency_ms", message: "must not be negative"))
            }
            if simulator.tokensPerSecond < 0 {
                issues.append(ConfigIssue(path: "\(path).simulator.tokens_per_second", message: "must not be negative"))
            }
            for (index, scenario) in simulator.scenarios.enumerated() where scenario.match.isEmpty {
                issues.append(ConfigIssue(path: "\(path).simulator.scenarios[\(index)].match", message: "must not be empty"))
            }
        }
        return issues
    }

    private func validateEndpoint(_ endpoint: EndpointConfig, path: String, providers: Set<String>) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let entities = endpoint.config.servedEntities
        if entities.isEmpty {
            issues.append(ConfigIssue(path: "\(path).served_entities", message: "at least one served entity is required"))
        }
        var entityNames = Set<String>()
        for (index, entity) in entities.enumerated() {
            let entityPath = "\(path).served_entities[\(index)]"
            if !entityNames.insert(entity.name).inserted {
                issues.append(ConfigIssue(path: "\(entityPath).name", message: "duplicate served entity name \"\(entity.name)\""))
            }
            let kinds = [entity.externalModel != nil, entity.agent != nil, entity.localModel != nil].filter { $0 }.count
            if kinds > 1 {
                issues.append(ConfigIssue(path: "\(entityPath)", message: "give one of external_model, agent or local_model"))
                continue
            }
            if WorkloadSize.replicas(entity.workloadSize) == nil {
                issues.append(ConfigIssue(path: "\(entityPath).workload_size", message: "must be Small, Medium or Large"))
            }
            if entity.agent != nil { continue }
            if let local = entity.localModel {
                if local.modelPath.isEmpty {
                    issues.append(ConfigIssue(path: "\(entityPath).local_model.model_path", message: "must name a GGUF file"))
                }
                if local.command.isEmpty || !local.command.contains(where: { $0.contains("{port}") }) {
                    issues.append(ConfigIssue(path: "\(entityPath).local_model.command", message: "must be a command line with a {port} placeholder"))
                }
                if !(0 < local.idleTimeoutSeconds && local.idleTimeoutSeconds <= 30 * 86400) {
                    issues.append(ConfigIssue(path: "\(entityPath).local_model.idle_timeout_seconds", message: "must be greater than 0 and at most 2592000 (30 days)"))
                }
                if !(0 < local.startupTimeoutSeconds && local.startupTimeoutSeconds <= 3600) {
                    issues.append(ConfigIssue(path: "\(entityPath).local_model.startup_timeout_seconds", message: "must be greater than 0 and at most 3600"))
                }
                continue
            }
            guard let model = entity.externalModel else {
                issues.append(ConfigIssue(path: "\(entityPath)", message: "needs an external_model, an agent or a local_model"))
                continue
            }
            if !providers.contains(model.provider) && model.inlineProvider == nil {
                issues.append(ConfigIssue(path: "\(entityPath).external_model.provider", message: "unknown provider \"\(model.provider)\""))
            }
            issues += model.inlineIssues.map { ConfigIssue(path: "\(entityPath).external_model.\($0.path)", message: $0.message) }
            if model.name.isEmpty {
                issues.append(ConfigIssue(path: "\(entityPath).external_model.name", message: "must not be empty"))
            }
        }
        guard let traffic = endpoint.config.trafficConfig else {
            if entities.count > 1 {
                issues.append(ConfigIssue(path: "\(path).traffic_config", message: "required when there is more than one served entity"))
            }
            return issues
        }
        let routesPath = "\(path).traffic_config.routes"
        if traffic.routes.isEmpty {
            issues.append(ConfigIssue(path: routesPath, message: "at least one route is required"))
            return issues
        }
        var routed = Set<String>()
        for (index, route) in traffic.routes.enumerated() {
            if !entityNames.contains(route.servedEntityName) {
                issues.append(ConfigIssue(path: "\(routesPath)[\(index)].served_entity_name", message: "no served entity named \"\(route.servedEntityName)\""))
            }
            if !routed.insert(route.servedEntityName).inserted {
                issues.append(ConfigIssue(path: "\(routesPath)[\(index)].served_entity_name", message: "routed twice"))
            }
            if !(0...100).contains(route.trafficPercentage) {
                issues.append(ConfigIssue(path: "\(routesPath)[\(index)].traffic_percentage", message: "must be between 0 and 100"))
            }
        }
        // Summed only when every share is in range, so that huge values cannot overflow.
        let inRange = traffic.routes.allSatisfy { (0...100).contains($0.trafficPercentage) }
        let sum = inRange ? traffic.routes.reduce(0) { $0 + $1.trafficPercentage } : 100
        if sum != 100 {
            issues.append(ConfigIssue(path: routesPath, message: "percentages sum to \(sum), expected 100"))
        }
        return issues
    }

    private func validatePricing(_ pricing: [PriceConfig], providers: Set<String>) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        for (index, price) in pricing.enumerated() {
            let path = "pricing[\(index)]"
            switch (price.provider, price.localModel) {
            case (let provider?, nil):
                if !providers.contains(provider) { issues.append(ConfigIssue(path: "\(path).provider", message: "unknown provider \"\(provider)\"")) }
            case (nil, _?):
                break
            default:
                issues.append(ConfigIssue(path: path, message: "give either provider (and model) or local_model"))
            }
            let amounts: [(String, Double?)] = [
                ("input_per_million", price.inputPerMillion), ("cached_input_per_million", price.cachedInputPerMillion),
                ("output_per_million", price.outputPerMillion), ("cpu_hour", price.cpuHour), ("gb_hour", price.gbHour),
            ]
            for (key, value) in amounts where (value ?? 0) < 0 {
                issues.append(ConfigIssue(path: "\(path).\(key)", message: "must not be negative"))
            }
        }
        return issues
    }
}
