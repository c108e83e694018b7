/// One problem found in a configuration, located by its key path (`endpoints[0].config.…`).
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Why a configuration could not be loaded.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unreadable, syntax, invalid
    }

    public var code: Code
    public var issues: [ConfigIssue]

    public init(code: Code, issues: [ConfigIssue]) {
        self.code = code
        self.issues = issues
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
