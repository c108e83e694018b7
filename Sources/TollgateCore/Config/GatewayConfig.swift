/// The whole configuration file, as decoded from YAML (see the README's configuration reference).
public struct GatewayConfig: Sendable, Equatable, Codable {
    public var server: ServerConfig
    /// The store's URL: `store: URL`, or `store: {url: URL, retention_days: N}`.
    public var store: String
    /// Days of `inference_table`, `endpoint_usage`, `traces` and `spans` kept (`store.retention_days`); nil keeps everything.
    public var retentionDays: Int?
    /// Where a `postgres://` store's spill file lives (rows kept while the database refuses
    /// them); a `sqlite:` store spills beside its file.
    public var spillDirectory: String
    public var environment: String
    public var limits: LimitsConfig
    public var providers: [ProviderConfig]
    public var endpoints: [EndpointConfig]
    public var tracing: TracingConfig
    public var pipeline: PipelineConfig
    public var pricing: [PriceConfig]

    public init(
        server: ServerConfig = ServerConfig(), store: String = "sqlite:tollgate.db", retentionDays: Int? = nil, spillDirectory: String = ".",
        environment: String = "dev",
        limits: LimitsConfig = LimitsConfig(), providers: [ProviderConfig] = [], endpoints: [EndpointConfig] = [],
        tracing: TracingConfig = TracingConfig(), pipeline: PipelineConfig = PipelineConfig(), pricing: [PriceConfig] = []
    ) {
        self.server = server
        self.store = store
        self.retentionDays = retentionDays
        self.spillDirectory = spillDirectory
        self.environment = environment
        self.limits = limits
        self.providers = providers
        self.endpoints = endpoints
        self.tracing = tracing
        self.pipeline = pipeline
        self.pricing = pricing
    }

    enum CodingKeys: String, CodingKey {
        case server, store, environment, limits
        case spillDirectory = "spill_directory", providers, endpoints, tracing, pipeline, pricing
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        server = try c.decodeIfPresent(ServerConfig.self, forKey: .server) ?? ServerConfig()
        let storeSettings = try c.decodeIfPresent(StoreSettings.self, forKey: .store) ?? StoreSettings(url: "sqlite:tollgate.db")
        store = storeSettings.url
        retentionDays = storeSettings.retentionDays
        spillDirectory = try c.decodeIfPresent(String.self, forKey: .spillDirectory) ?? "."
        environment = try c.decodeIfPresent(String.self, forKey: .environment) ?? "dev"
        limits = try c.decodeIfPresent(LimitsConfig.self, forKey: .limits) ?? LimitsConfig()
        providers = try c.decodeIfPresent([ProviderConfig].self, forKey: .providers) ?? []
        endpoints = try c.decodeIfPresent([EndpointConfig].self, forKey: .endpoints) ?? []
        tracing = try c.decodeIfPresent(TracingConfig.self, forKey: .tracing) ?? TracingConfig()
        pipeline = try c.decodeIfPresent(PipelineConfig.self, forKey: .pipeline) ?? PipelineConfig()
        pricing = try c.decodeIfPresent([PriceConfig].self, forKey: .pricing) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(server, forKey: .server)
        try c.encode(StoreSettings(url: store, retentionDays: retentionDays), forKey: .store)
        try c.encode(spillDirectory, forKey: .spillDirectory)
        try c.encode(environment, forKey: .environment)
        try c.encode(limits, forKey: .limits)
        try c.encode(providers, forKey: .providers)
        try c.encode(endpoints, forKey: .endpoints)
        try c.encode(tracing, forKey: .tracing)
        try c.encode(pipeline, forKey: .pipeline)
        try c.encode(pricing, forKey: .pricing)
    }

    public func provider(named name: String) -> ProviderConfig? {
        providers.first { $0.name == name }
    }

    public func endpoint(named name: String) -> EndpointConfig? {
        endpoints.first { $0.name == name }
    }
}

/// `store:` — a URL, or `{url, retention_days}`.
struct StoreSettings: Codable {
    var url: String
    var retentionDays: Int?

    init(url: String, retentionDays: Int? = nil) {
        self.url = url
        self.retentionDays = retentionDays
    }

    enum CodingKeys: String, CodingKey {
        case url
        case retentionDays = "retention_days"
    }

    init(from decoder: any Decoder) throws {
        if let url = try? decoder.singleValueContainer().decode(String.self) {
            self.init(url: url)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(url: try c.decode(String.self, forKey: .url), retentionDays: try c.decodeIfPresent(Int.self, forKey: .retentionDays))
    }

    func encode(to encoder: any Encoder) throws {
        guard let retentionDays else {
            var single = encoder.singleValueContainer()
            try single.encode(url)
            return
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(url, forKey: .url)
        try c.encode(retentionDays, forKey: .retentionDays)
    }
}

/// `server:` — where the gateway listens.
public struct ServerConfig: Sendable, Equatable, Codable {
    public var host: String
    public var port: Int
    /// Bearer token the admin API (`/api/2.0/serving-endpoints…`) requires; without one the
    /// admin routes answer 401.
    public var adminToken: String?
    /// Open client connections allowed at once; past it new connections wait in the kernel's
    /// backlog (and are refused once it is full) instead of exhausting file descriptors.
    /// `nil`: the process's open-file limit less a reserve for the store and upstreams.
    public var maxConnections: Int?
    /// Seconds a connection may sit with no request in progress (keep-alive, or a request head
    /// that never completes) before it is closed.
    public var idleTimeoutSeconds: Double
    /// Seconds allowed to receive a whole request body; a slower upload gets 408 and is closed.
    public var bodyTimeoutSeconds: Double
    /// Whether admin API bodies may define agent tool servers (MCP commands, which run on this
    /// host with the gateway's environment). Off by default: the admin token is not a shell.
    public var allowAdminToolCommands: Bool
    /// `keys`: inference routes need a Tollgate key; `none` (the default): anyone on the port.
    public var auth: AuthMode
    /// What a key may do on an endpoint without `permissions`: `CAN_QUERY` (the default), or
    /// `NONE` (endpoints are closed until they list who may use them).
    public var defaultPermission: PermissionLevel?
    /// This replica's name in `compute_usage.replica` (and its logs); the host name when unset.
    public var replicaID: String?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, adminToken: String? = nil, maxConnections: Int? = nil,
        idleTimeoutSeconds: Double = 60, bodyTimeoutSeconds: Double = 30, allowAdminToolCommands: Bool = false,
        auth: AuthMode = .none, defaultPermission: PermissionLevel? = .canQuery, replicaID: String? = nil
    ) {
        self.replicaID = replicaID
        self.auth = auth
        self.defaultPermission = defaultPermission
        self.allowAdminToolCommands = allowAdminToolCommands
        self.host = host
        self.port = port
        self.adminToken = adminToken
        self.maxConnections = maxConnections
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
    }

    enum CodingKeys: String, CodingKey {
        case host, port
        case adminToken = "admin_token"
        case maxConnections = "max_connections"
        case idleTimeoutSeconds = "idle_timeout_seconds"
        case bodyTimeoutSeconds = "body_timeout_seconds"
        case allowAdminToolCommands = "allow_admin_tool_commands"
        case auth
        case defaultPermission = "default_permission"
        case replicaID = "replica_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1"
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 8080
        adminToken = try c.decodeIfPresent(String.self, forKey: .adminToken).flatMap { $0.isEmpty ? nil : $0 }
        maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections)
        idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? 60
        bodyTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .bodyTimeoutSeconds) ?? 30
        allowAdminToolCommands = try c.decodeIfPresent(Bool.self, forKey: .allowAdminToolCommands) ?? false
        auth = try c.decodeIfPresent(AuthMode.self, forKey: .auth) ?? .none
        replicaID = try c.decodeIfPresent(String.self, forKey: .replicaID).flatMap { $0.isEmpty ? nil : $0 }
        switch try c.decodeIfPresent(String.self, forKey: .defaultPermission) {
        case nil: defaultPermission = .canQuery
        case "NONE"?: defaultPermission = nil
        case let name?:
            guard let level = PermissionLevel(rawValue: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .defaultPermission, in: c, debugDescription: "must be CAN_VIEW, CAN_QUERY, CAN_MANAGE or NONE")
            }
            defaultPermission = level
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(host, forKey: .host)
        try c.encode(port, forKey: .port)
        try c.encodeIfPresent(adminToken, forKey: .adminToken)
        try c.encodeIfPresent(maxConnections, forKey: .maxConnections)
        try c.encode(idleTimeoutSeconds, forKey: .idleTimeoutSeconds)
        try c.encode(bodyTimeoutSeconds, forKey: .bodyTimeoutSeconds)
        try c.encode(allowAdminToolCommands, forKey: .allowAdminToolCommands)
        try c.encode(auth, forKey: .auth)
        try c.encode(defaultPermission?.rawValue ?? "NONE", forKey: .defaultPermission)
        try c.encodeIfPresent(replicaID, forKey: .replicaID)
    }

    /// Whether the server listens only on this machine.
    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) || host.hasPrefix("127.") }

    /// The connection cap in force: `max_connections`, or the open-file limit less 256.
    public func effectiveMaxConnections(openFileLimit: Int) -> Int {
        maxConnections ?? max(16, min(openFileLimit - 256, 100_000))
    }
}

/// `limits:` — request size, logged payload size, upstream timeout, recording queue.
public struct LimitsConfig: Sendable, Equatable, Codable {
    /// Largest request body accepted (bytes); larger gets HTTP 413.
    public var maxRequestBytes: Int
    /// Largest request or response payload stored in `inference_table` (bytes); larger is stored
    /// null with a `MAX_*_SIZE_EXCEEDED` code.
    public var logPayloadLimitBytes: Int
    /// Largest upstream response body read (bytes).
    public var maxResponseBytes: Int
    /// Seconds to wait for the upstream's response head, and between two bytes of its body.
    public var upstreamTimeoutSeconds: Double
    /// Seconds to open a connection to an upstream.
    public var connectTimeoutSeconds: Double
    /// Largest spill file (bytes) that keeps records while the store refuses writes.
    public var spillMaxBytes: Int
    /// Seconds a store write waits for another process's lock before it counts as failed.
    public var storeBusyTimeoutSeconds: Double
    /// Answer tokens a token rate limit reserves for a request that names no `max_tokens`.
    public var defaultOutputTokens: Int

    public init(
        maxRequestBytes: Int = 10 * 1024 * 1024, logPayloadLimitBytes: Int = 1024 * 1024,
        maxResponseBytes: Int = 64 * 1024 * 1024, upstreamTimeoutSeconds: Double = 120, connectTimeoutSeconds: Double = 10,
        spillMaxBytes: Int = 1 << 30, storeBusyTimeoutSeconds: Double = 10, defaultOutputTokens: Int = 1024
    ) {
        self.defaultOutputTokens = defaultOutputTokens
        self.spillMaxBytes = spillMaxBytes
        self.storeBusyTimeoutSeconds = storeBusyTimeoutSeconds
        self.maxRequestBytes = maxRequestBytes
        self.logPayloadLimitBytes = logPayloadLimitBytes
        self.maxResponseBytes = maxResponseBytes
        self.upstreamTimeoutSeconds = upstreamTimeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    enum CodingKeys: String, CodingKey {
        case maxRequestBytes = "max_request_bytes"
        case logPayloadLimitBytes = "log_payload_limit_bytes"
        case maxResponseBytes = "max_response_bytes"
        case upstreamTimeoutSeconds = "upstream_timeout_seconds"
        case connectTimeoutSeconds = "connect_timeout_seconds"
        case spillMaxBytes = "spill_max_bytes"
        case storeBusyTimeoutSeconds = "store_busy_timeout_seconds"
        case defaultOutputTokens = "default_output_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let d = LimitsConfig()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxRequestBytes = try c.decodeIfPresent(Int.self, forKey: .maxRequestBytes) ?? d.maxRequestBytes
        logPayloadLimitBytes = try c.decodeIfPresent(Int.self, forKey: .logPayloadLimitBytes) ?? d.logPayloadLimitBytes
        maxResponseBytes = try c.decodeIfPresent(Int.self, forKey: .maxResponseBytes) ?? d.maxResponseBytes
        upstreamTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .upstreamTimeoutSeconds) ?? d.upstreamTimeoutSeconds
        connectTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .connectTimeoutSeconds) ?? d.connectTimeoutSeconds
        spillMaxBytes = try c.decodeIfPresent(Int.self, forKey: .spillMaxBytes) ?? d.spillMaxBytes
        storeBusyTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .storeBusyTimeoutSeconds) ?? d.storeBusyTimeoutSeconds
        defaultOutputTokens = try c.decodeIfPresent(Int.self, forKey: .defaultOutputTokens) ?? d.defaultOutputTokens
    }
}
