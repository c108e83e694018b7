import TollgateCore

/// Builds the client for one served entity from its provider's configuration.
public enum ProviderFactory {
    /// - Parameter simulatorURL: base URL of the embedded simulator, for `simulator` providers
    ///   configured without a `base_url`.
    public static func make(
        provider: ProviderConfig, model: ExternalModelConfig, upstream: HTTPUpstream, simulatorURL: LateBoundURL?
    ) -> any ChatProvider {
        let headers = provider.headers ?? [:]
        var provider = provider
        if provider.apiKey?.isEmpty == true { provider.apiKey = nil }
        switch provider.kind {
        case .openai:
            return OpenAIProvider(upstream: upstream, baseURL: provider.baseURL ?? "", apiKey: provider.apiKey, flavor: .openai, extraHeaders: headers)
        case .simulator:
            let base: BaseURL = provider.baseURL.map(BaseURL.fixed) ?? simulatorURL.map(BaseURL.late) ?? .fixed("")
            return OpenAIProvider(upstream: upstream, base: base, apiKey: provider.apiKey, flavor: .openai, extraHeaders: headers)
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
