/// The governance checks: rate limits, guardrails, permissions.
extension ConfigValidator {
    func validateGovernance(_ config: GatewayConfig) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let names = Set(config.endpoints.map(\.name))
        for (index, endpoint) in config.endpoints.enumerated() {
            let path = "endpoints[\(index)]"
            issues += RateLimitRule.validate(endpoint.aiGateway.rateLimits, path: "\(path).ai_gateway.rate_limits")
            if let guardrails = endpoint.aiGateway.guardrails {
                issues += GuardrailValidation.validate(guardrails, path: "\(path).ai_gateway.guardrails", endpoints: names)
                for direction in [guardrails.input, guardrails.output] {
                    if direction?.judge?.endpoint == endpoint.name {
                        issues.append(ConfigIssue(path: "\(path).ai_gateway.guardrails", message: "an endpoint cannot judge itself"))
                    }
                }
            }
            var subjects = Set<PermissionSubject>()
            for (entry, permission) in endpoint.permissions.enumerated() {
                if !subjects.insert(permission.subject).inserted {
                    issues.append(ConfigIssue(path: "\(path).permissions[\(entry)]", message: "names the same principal twice"))
                }
                let name: String = switch permission.subject {
                case .user(let name), .group(let name), .servicePrincipal(let name): name
                }
                if name.isEmpty { issues.append(ConfigIssue(path: "\(path).permissions[\(entry)]", message: "the principal's name must not be empty")) }
            }
        }
        return issues
    }
}
