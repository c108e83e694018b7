import Foundation

/// `endpoints[].retention` — which 0%-traffic versions the gateway retires by itself.
public struct RetentionConfig: Sendable, Equatable, Codable {
    /// 0%-traffic versions kept (the most recent ones) for rollback.
    public var keepZeroTrafficVersions: Int
    /// A 0%-traffic version older than this (seconds since it last had traffic) is retired even
    /// when within `keep_zero_traffic_versions`; nil keeps them by count only.
    public var maxZeroTrafficAgeSeconds: Double?

    public init(keepZeroTrafficVersions: Int = 1, maxZeroTrafficAgeSeconds: Double? = nil) {
        self.keepZeroTrafficVersions = keepZeroTrafficVersions
        self.maxZeroTrafficAgeSeconds = maxZeroTrafficAgeSeconds
    }

    enum CodingKeys: String, CodingKey {
        case keepZeroTrafficVersions = "keep_zero_traffic_versions"
        case maxZeroTrafficAge = "max_zero_traffic_age"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keepZeroTrafficVersions = try c.decodeIfPresent(Int.self, forKey: .keepZeroTrafficVersions) ?? 1
        if let seconds = try? c.decodeIfPresent(Double.self, forKey: .maxZeroTrafficAge) {
            maxZeroTrafficAgeSeconds = seconds
        } else if let text = try c.decodeIfPresent(String.self, forKey: .maxZeroTrafficAge) {
            guard let seconds = DurationText.seconds(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxZeroTrafficAge, in: c, debugDescription: "expected seconds or a duration such as 30m, 12h, 7d"
                )
            }
            maxZeroTrafficAgeSeconds = seconds
        } else {
            maxZeroTrafficAgeSeconds = nil
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(keepZeroTrafficVersions, forKey: .keepZeroTrafficVersions)
        try c.encodeIfPresent(maxZeroTrafficAgeSeconds, forKey: .maxZeroTrafficAge)
    }
}

/// Durations written as `45s`, `30m`, `12h`, `7d` (or plain seconds).
public enum DurationText {
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last else { return nil }
        let scale: Double
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return Double(trimmed)
        }
        return Double(trimmed.dropLast()).map { $0 * scale }
    }
}

/// `pricing[]` — what a provider model's tokens cost, or what a local model's compute costs.
public struct PriceConfig: Sendable, Equatable, Codable {
    public var provider: String?
    public var model: String?
    public var inputPerMillion: Double?
    public var cachedInputPerMillion: Double?
    public var outputPerMillion: Double?
    /// A served entity name of a `local_model`, priced by compute.
    public var localModel: String?
    public var cpuHour: Double?
    public var gbHour: Double?

    public init(
        provider: String? = nil, model: String? = nil, inputPerMillion: Double? = nil, cachedInputPerMillion: Double? = nil,
        outputPerMillion: Double? = nil, localModel: String? = nil, cpuHour: Double? = nil, gbHour: Double? = nil
    ) {
        self.provider = provider
        self.model = model
        self.inputPerMillion = inputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
        self.outputPerMillion = outputPerMillion
        self.localModel = localModel
        self.cpuHour = cpuHour
        self.gbHour = gbHour
    }

    enum CodingKeys: String, CodingKey {
        case provider, model
        case inputPerMillion = "input_per_million"
        case cachedInputPerMillion = "cached_input_per_million"
        case outputPerMillion = "output_per_million"
        case localModel = "local_model"
        case cpuHour = "cpu_hour"
        case gbHour = "gb_hour"
    }

    /// Token cost of one request in USD (cached input tokens at the cached price when given).
    public func tokenCost(input: Int?, cachedInput: Int?, output: Int?) -> Double {
        let cached = min(cachedInput ?? 0, input ?? 0)
        let fresh = (input ?? 0) - cached
        let inputCost = Double(fresh) * (inputPerMillion ?? 0) + Double(cached) * (cachedInputPerMillion ?? inputPerMillion ?? 0)
        return (inputCost + Double(output ?? 0) * (outputPerMillion ?? 0)) / 1_000_000
    }

    /// Compute cost in USD of `cpuSeconds` of CPU and `gbSeconds` of resident memory.
    public func computeCost(cpuSeconds: Double, gbSeconds: Double) -> Double {
        (cpuSeconds * (cpuHour ?? 0) + gbSeconds * (gbHour ?? 0)) / 3600
    }
}

extension Array where Element == PriceConfig {
    /// The token price of a provider's model.
    public func tokenPrice(provider: String, model: String) -> PriceConfig? {
        first { $0.provider == provider && $0.model == model } ?? first { $0.provider == provider && $0.model == nil }
    }

    /// The compute price of a local model, by the first of `names` (entity name, model name)
    /// that has one, else the `"*"` entry.
    public func computePrice(localModel names: String...) -> PriceConfig? {
        for name in names { if let price = first(where: { $0.localModel == name }) { return price } }
        return first { $0.localModel == "*" }
    }
}

/// `served_entities[].local_model` — a GGUF model served by a model-server process that Tollgate
/// starts, health-checks, restarts and stops.
public struct LocalModelConfig: Sendable, Equatable, Codable {
    /// The GGUF file.
    public var modelPath: String
    /// Model name sent to the server (default: the served entity's name).
    public var modelName: String?
    /// The server's command line. `{model_path}`, `{port}`, `{host}` and `{context_size}` are
    /// filled in; the default runs llama-cpp-python's server.
    public var command: [String]
    /// Seconds without requests before a scale-to-zero model is stopped.
    public var idleTimeoutSeconds: Double
    /// Seconds to wait for a started server to answer its health check.
    public var startupTimeoutSeconds: Double
    public var contextSize: Int
    /// Whether the server also answers `/v1/embeddings` (the default command then runs with
    /// `--embedding true`; a custom command must turn it on itself).
    public var embeddings: Bool

    public static let defaultCommand = [
        "python3", "-m", "llama_cpp.server", "--model", "{model_path}", "--host", "{host}", "--port", "{port}", "--n_ctx", "{context_size}",
    ]

    public init(
        modelPath: String, modelName: String? = nil, command: [String] = LocalModelConfig.defaultCommand, idleTimeoutSeconds: Double = 300,
        startupTimeoutSeconds: Double = 180, contextSize: Int = 2048, embeddings: Bool = false
    ) {
        self.embeddings = embeddings
        self.modelPath = modelPath
        self.modelName = modelName
        self.command = command
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.startupTimeoutSeconds = startupTimeoutSeconds
        self.contextSize = contextSize
    }

    enum CodingKeys: String, CodingKey {
        case command
        case modelPath = "model_path"
        case modelName = "model_name"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case startupTimeoutSeconds = "startup_timeout_seconds"
        case contextSize = "context_size"
        case embeddings
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = LocalModelConfig(modelPath: "")
        modelPath = try c.decode(String.self, forKey: .modelPath)
        modelName = try c.decodeIfPresent(String.self, forKey: .modelName)
        command = try c.decodeIfPresent([String].self, forKey: .command) ?? defaults.command
        idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? defaults.idleTimeoutSeconds
        startupTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .startupTimeoutSeconds) ?? defaults.startupTimeoutSeconds
        contextSize = try c.decodeIfPresent(Int.self, forKey: .contextSize) ?? defaults.contextSize
        embeddings = try c.decodeIfPresent(Bool.self, forKey: .embeddings) ?? false
    }

    /// The command line for a server on `port`.
    public func commandLine(host: String, port: Int) -> [String] {
        let command = embeddings && self.command == Self.defaultCommand ? self.command + ["--embedding", "true"] : self.command
        return command.map { argument in
            argument.replacingOccurrences(of: "{model_path}", with: modelPath).replacingOccurrences(of: "{port}", with: String(port))
                .replacingOccurrences(of: "{host}", with: host).replacingOccurrences(of: "{context_size}", with: String(contextSize))
        }
    }
}

/// Databricks' `workload_size`, as model-server replicas (each serves one request at a time).
public enum WorkloadSize {
    public static func replicas(_ size: String?) -> Int? {
        switch size?.lowercased() {
        case nil, "small": 1
        case "medium": 2
        case "large": 4
        default: nil
        }
    }
}
