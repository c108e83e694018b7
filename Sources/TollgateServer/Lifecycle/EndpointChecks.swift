import Foundation
import TollgateCore

extension EndpointManager {
    /// `${VAR}` references in tool-server `env` that the gateway's environment cannot resolve:
    /// a definition from the admin API is checked as the configuration file is at start.
    static func unresolvableToolEnvironment(_ definition: EndpointConfig) -> [ConfigIssue] {
        let environment = ProcessInfo.processInfo.environment
        var issues: [ConfigIssue] = []
        for (entityIndex, entity) in definition.config.servedEntities.enumerated() {
            for (toolIndex, tool) in (entity.agent?.tools ?? []).enumerated() {
                for (name, value) in (tool.mcp.env ?? [:]).sorted(by: { $0.key < $1.key }) {
                    guard case .failure(let problem) = EnvironmentReferences.expand(value, environment: environment) else { continue }
                    let path = "config.served_entities[\(entityIndex)].agent.tools[\(toolIndex)].mcp.env.\(name)"
                    issues.append(ConfigIssue(path: path, message: problem.message))
                }
            }
        }
        return issues
    }
}

extension EndpointConfig {
    var servesAgents: Bool { config.servedEntities.contains { $0.agent != nil } }
}

/// Admin API errors shared by the manager and the routes.
enum AdminErrors {
    static func notFound(_ name: String) -> GatewayError {
        GatewayError(code: .resourceDoesNotExist, status: 404, message: "Endpoint `\(name)` does not exist.")
    }

    static func storeFailed(_ error: any Error) -> GatewayError {
        GatewayError(code: .internalError, status: 500, message: "The endpoint store could not be written: \(error)")
    }
}
