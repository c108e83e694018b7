/// Databricks' `external_model.openai_config` (field names as the serving-endpoint API has them).
public struct OpenAIProviderSettings: Sendable, Equatable, Codable {
    public var openaiAPIKey: String?
    public var openaiAPIKeyPlaintext: String?
    /// Default `https://api.openai.com/v1`; for Azure, the resource URL.
    public var openaiAPIBase: String?
    /// `openai` (default) or `azure` / `azuread`.
    public var openaiAPIType: String?
    public var openaiAPIVersion: String?
    public var openaiDeploymentName: String?
    public var openaiOrganization: String?

    enum CodingKeys: String, CodingKey {
        case openaiAPIKey = "openai_api_key"
        case openaiAPIKeyPlaintext = "openai_api_key_plaintext"
        case openaiAPIBase = "openai_api_base"
        case openaiAPIType = "openai_api_type"
        case openaiAPIVersion = "openai_api_version"
        case openaiDeploymentName = "openai_deployment_name"
        case openaiOrganization = "openai_organization"
    }

    var isAzure: Bool { ["azure", "azuread"].contains(openaiAPIType?.lowercased() ?? "openai") }
}

/// Databricks' `external_model.anthropic_config`.
public struct AnthropicProviderSettings: Sendable, Equatable, Codable {
    public var anthropicAPIKey: String?
    public var anthropicAPIKeyPlaintext: String?

    enum CodingKeys: String, CodingKey {
        case anthropicAPIKey = "anthropic_api_key"
        case anthropicAPIKeyPlaintext = "anthropic_api_key_plaintext"
    }
}

extension ExternalModelConfig {
    /// The provider an inline Databricks config describes (named as `provider`), if any. Its
    /// key is still the `${VAR}` reference as written: `resolvingKey(environment:)` reads it.
    public var inlineProvider: ProviderConfig? {
        switch provider {
        case "openai":
            guard let settings = openaiConfig else { return nil }
            let key = settings.openaiAPIKey
            var headers: [String: String]?
            if let organization = settings.openaiOrganization { headers = ["OpenAI-Organization": organization] }
            if settings.isAzure {
                return ProviderConfig(
                    name: provider, kind: .azureOpenAI, baseURL: settings.openaiAPIBase, apiKey: key,
                    apiVersion: settings.openaiAPIVersion ?? "2024-10-21", headers: headers
                )
            }
            return ProviderConfig(name: provider, kind: .openai, baseURL: settings.openaiAPIBase ?? "https://api.openai.com/v1", apiKey: key, headers: headers)
        case "anthropic":
            guard let settings = anthropicConfig else { return nil }
            return ProviderConfig(
                name: provider, kind: .anthropic, baseURL: "https://api.anthropic.com",
                apiKey: settings.anthropicAPIKey
            )
        default:
            return nil
        }
    }

    /// The model name the provider is called with: Azure's deployment when one is named.
    public var upstreamName: String { openaiConfig?.isAzure == true ? (openaiConfig?.openaiDeploymentName ?? name) : name }

    /// Problems of the inline config, with paths relative to `external_model`.
    public var inlineIssues: [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let keys: [(String, String?)] = [
            ("openai_config.openai_api_key", openaiConfig?.openaiAPIKey), ("anthropic_config.anthropic_api_key", anthropicConfig?.anthropicAPIKey),
        ]
        // Keys stay out of the store and the admin API: only `${VAR}` references are accepted.
        for (path, value) in keys {
            guard let value else { continue }
            if value.hasPrefix("{{secrets/") {
                issues.append(ConfigIssue(path: path, message: "Databricks secret references cannot be read here; use ${ENV_VAR}"))
            } else if !(value.hasPrefix("${") && value.hasSuffix("}")) {
                issues.append(ConfigIssue(path: path, message: "must be an environment reference (${ENV_VAR}): keys are not stored"))
            }
        }
        if openaiConfig?.openaiAPIKeyPlaintext != nil {
            issues.append(ConfigIssue(path: "openai_config.openai_api_key_plaintext", message: "keys are not stored; use openai_api_key: ${ENV_VAR}"))
        }
        if anthropicConfig?.anthropicAPIKeyPlaintext != nil {
            issues.append(ConfigIssue(path: "anthropic_config.anthropic_api_key_plaintext", message: "keys are not stored; use anthropic_api_key: ${ENV_VAR}"))
        }
        if openaiConfig?.isAzure == true, openaiConfig?.openaiAPIBase == nil {
            issues.append(ConfigIssue(path: "openai_config.openai_api_base", message: "required for openai_api_type azure"))
        }
        if openaiConfig != nil, provider != "openai" {
            issues.append(ConfigIssue(path: "openai_config", message: "only with provider: openai"))
        }
        if anthropicConfig != nil, provider != "anthropic" {
            issues.append(ConfigIssue(path: "anthropic_config", message: "only with provider: anthropic"))
        }
        return issues
    }
}

extension GatewayConfig {
    /// The provider an external model calls: a configured one by name, else its inline config
    /// with its key's reference resolved from `environment` (nil when it cannot be).
    public func provider(for model: ExternalModelConfig, environment: [String: String]) -> ProviderConfig? {
        if let configured = provider(named: model.provider) { return configured }
        guard var inline = model.inlineProvider else { return nil }
        if let reference = inline.apiKey {
            guard case .success(let key) = EnvironmentReferences.expand(reference, environment: environment) else { return nil }
            inline.apiKey = key
        }
        return inline
    }
}
