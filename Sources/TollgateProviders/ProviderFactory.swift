import TollgateCore

/// Builds the client for one served entity from its provider's configuration.
public enum ProviderFactory {
    /// - Parameter simulatorURL: base URL of the embedded simulator, for `simulator` providers
    ///   configured without a `base_url`.
    public static func make(
        provider: ProviderConfig, model: ExternalModelConfig, upstream: HTTPUpstream, simulatorURL: String?
    ) -> any ChatProvider {
        let headers = provider.headers ?? [:]
        switch provider.kind {
        case .openai:
            return OpenAIProvider(upstream: upstream, baseURL: provider.baseURL ?? "", apiKey: provider.apiKey, flavor: .openai, extraHeaders: headers)
        case .simulator:
            let base = provider.baseURL ?? simulatorURL ?? ""
            return OpenAIProvider(upstream: upstream, baseURL: base, apiKey: provider.apiKey, flavor: .openai, extraHeaders: headers)
        case .azureOpenAI:
            return OpenAIProvider(
                upstream: upstream, baseURL: provider.baseURL ?? "", apiKey: provider.apiKey,
                flavor: .azure(deployment: model.name, apiVersion: provider.apiVersion ?? ""), extraHeaders: headers
            )
        case .anthropic:
            return AnthropicProvider(
                upstream: upstream, baseURL: provider.baseURL ?? "", apiKey: provider.apiKey,
                version: provider.anthropicVersion, upstreamModel: model.name, extraHeaders: headers
            )
        }
    }
}
