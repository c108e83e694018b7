/// `${NAME}` and `${NAME:-default}` references to environment variables.
public enum EnvironmentReferences {
    /// Why a text's references cannot be resolved.
    public struct Problem: Error, Sendable, Equatable {
        public var message: String
    }

    /// The text with every reference replaced by its variable's value (or its default when the
    /// variable is unset or empty).
    public static func expand(_ text: String, environment: [String: String]) -> Result<String, Problem> {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                return .failure(Problem(message: "unterminated ${ reference"))
            }
            let reference = rest[start.upperBound..<end]
            let parts = reference.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            if let value = environment[name], !value.isEmpty {
                result += value
            } else if parts.count == 2 {
                result += parts[1]
            } else {
                return .failure(Problem(message: "environment variable \(name) is not set"))
            }
            rest = rest[rest.index(after: end)...]
        }
        return .success(result + rest)
    }

    /// Whether a configuration path holds values kept as written, their references resolved
    /// only where they are used: an agent tool server's `env` (`…mcp.env.NAME`), so that the
    /// secrets it usually carries are neither stored with the endpoint nor returned by the
    /// admin API.
    public static func isDeferred(path: String) -> Bool {
        path.contains(".mcp.env.") || path.hasSuffix(".openai_config.openai_api_key") || path.hasSuffix(".anthropic_config.anthropic_api_key")
    }
}
