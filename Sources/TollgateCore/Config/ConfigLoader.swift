import Foundation
import Yams

/// Reads a YAML configuration: resolves `${ENV}` references, decodes the typed model, validates it.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func load(path: String) throws(ConfigError) -> GatewayConfig {
        try loadWithWarnings(path: path).config
    }

    public func load(yaml: String) throws(ConfigError) -> GatewayConfig {
        try loadWithWarnings(yaml: yaml).config
    }

    /// Reads a configuration file and returns the warnings (keys accepted for Databricks
    /// compatibility but not used) with it.
    public func loadWithWarnings(path: String) throws(ConfigError) -> (config: GatewayConfig, warnings: [ConfigIssue]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(code: .unreadable, issues: [ConfigIssue(path: "", message: "cannot read \(path)")])
        }
        return try loadWithWarnings(yaml: String(decoding: data, as: UTF8.self))
    }

    /// Reads a configuration and returns the warnings with it; unknown keys are errors.
    public func loadWithWarnings(yaml: String) throws(ConfigError) -> (config: GatewayConfig, warnings: [ConfigIssue]) {
        let root: Node
        do {
            root = try Yams.compose(yaml: yaml) ?? Node([(Node, Node)]())
        } catch {
            throw ConfigError(code: .syntax, issues: [ConfigIssue(path: "", message: "YAML syntax: \(error)")])
        }
        var unresolved: [ConfigIssue] = []
        let resolved = substitute(root, path: "", issues: &unresolved)
        if !unresolved.isEmpty { throw ConfigError(code: .invalid, issues: unresolved) }
        let config: GatewayConfig
        let tracker = KeyTracker()
        do {
            config = try YAMLDecoder().decode(KeyTracked<GatewayConfig>.self, from: resolved, userInfo: [KeyTracked<GatewayConfig>.trackerKey: tracker]).value
        } catch let error as DecodingError {
            throw ConfigError(code: .invalid, issues: [Self.issue(for: error)])
        } catch {
            throw ConfigError(code: .invalid, issues: [ConfigIssue(path: "", message: "\(error)")])
        }
        let warnings = try StrictDecoding.check(tracker)
        let issues = ConfigValidator().validate(config)
        if !issues.isEmpty { throw ConfigError(code: .invalid, issues: issues) }
        return (config, warnings)
    }

    /// Replaces `${NAME}` and `${NAME:-default}` in every scalar but those kept as written
    /// (`EnvironmentReferences.isDeferred`).
    private func substitute(_ node: Node, path: String, issues: inout [ConfigIssue]) -> Node {
        switch node {
        case .scalar(let scalar):
            guard scalar.string.contains("${") else { return node }
            guard let value = expand(scalar.string, path: path, issues: &issues) else { return node }
            // Checked now (an unset variable is a configuration error), resolved where used.
            if EnvironmentReferences.isDeferred(path: path) { return node }
            return Node(value, .implicit, scalar.style)
        case .mapping(let mapping):
            var pairs: [(Node, Node)] = []
            for (key, value) in mapping {
                let name = key.string ?? "?"
                pairs.append((key, substitute(value, path: path.isEmpty ? name : "\(path).\(name)", issues: &issues)))
            }
            return Node(pairs, mapping.tag, mapping.style)
        case .sequence(let sequence):
            let items = sequence.enumerated().map { substitute($0.element, path: "\(path)[\($0.offset)]", issues: &issues) }
            return Node(items, sequence.tag, sequence.style)
        case .alias:
            return node
        }
    }

    private func expand(_ text: String, path: String, issues: inout [ConfigIssue]) -> String? {
        switch EnvironmentReferences.expand(text, environment: environment) {
        case .success(let value):
            return value
        case .failure(let problem):
            issues.append(ConfigIssue(path: path, message: problem.message))
            return nil
        }
    }

    public static func issue(for error: DecodingError) -> ConfigIssue {
        let render = KeyTracker.render
        switch error {
        case .keyNotFound(let key, let context):
            let parent = render(context.codingPath)
            return ConfigIssue(path: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)", message: "required key is missing")
        case .typeMismatch(let type, let context):
            return ConfigIssue(path: render(context.codingPath), message: "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return ConfigIssue(path: render(context.codingPath), message: "expected \(Self.describe(type)), found null")
        case .dataCorrupted(let context):
            return ConfigIssue(path: render(context.codingPath), message: context.debugDescription)
        @unknown default:
            return ConfigIssue(path: "", message: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}
