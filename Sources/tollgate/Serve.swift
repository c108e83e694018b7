import ArgumentParser
import Foundation
import Logging
import TollgateCore
import TollgateServer

/// `tollgate serve` — runs the gateway.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway.")

    @Option(name: .long, help: "Configuration file (YAML).")
    var config: String = "tollgate.yaml"

    @Option(name: .long, help: "Address to bind (overrides server.host).")
    var host: String?

    @Option(name: .long, help: "Port to bind (overrides server.port).")
    var port: Int?

    @Option(name: .long, help: "Store URL, sqlite:PATH or postgres://user:password@host:port/database (overrides store).")
    var store: String?

    func run() async throws {
        var gatewayConfig = try ConfigFile.load(config)
        if let host { gatewayConfig.server.host = host }
        if let port { gatewayConfig.server.port = port }
        if let store { gatewayConfig.store = store }
        let logger = ConfigFile.logger()
        logger.info("starting tollgate", metadata: [
            "config": "\(config)", "environment": "\(gatewayConfig.environment)", "endpoints": "\(gatewayConfig.endpoints.count)",
        ])
        if gatewayConfig.server.auth == .none && !gatewayConfig.server.isLoopback {
            logger.warning("listening beyond this machine without keys: anyone who reaches the port may query every endpoint; set server.auth: keys", metadata: [
                "host": "\(gatewayConfig.server.host)",
            ])
        }
        let runtime = GatewayRuntime(
            config: gatewayConfig, logger: logger, connectionsOnTheirLoops: ConcurrencyExecutor.onNIOLoops, openStore: StoreBackends.gatewayStore
        )
        try await runtime.run()
    }
}

/// `tollgate validate` — checks a configuration file.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a configuration file; errors name the key path.")

    @Option(name: .long, help: "Configuration file (YAML).")
    var config: String

    func run() async throws {
        _ = try ConfigFile.load(config)
        print("\(config): OK")
    }
}

/// Shared loading and logging setup for the commands.
enum ConfigFile {
    static func load(_ path: String) throws -> GatewayConfig {
        do {
            let (config, warnings) = try ConfigLoader().loadWithWarnings(path: path)
            var stderr = StandardError()
            for warning in warnings { print("\(path): warning: \(warning)", to: &stderr) }
            return config
        } catch {
            var stderr = StandardError()
            print("\(path): invalid configuration", to: &stderr)
            for issue in error.issues { print("  \(issue)", to: &stderr) }
            throw ExitCode(2)
        }
    }

    static func logger() -> Logger {
        var logger = Logger(label: "tollgate")
        let level = ProcessInfo.processInfo.environment["TOLLGATE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .info
        return logger
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
