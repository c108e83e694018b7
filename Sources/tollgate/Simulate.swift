import ArgumentParser
import Hummingbird
import TollgateCore
import TollgateSimulator

/// `tollgate simulate` — the built-in simulator as a standalone OpenAI-compatible server.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the simulator as a standalone OpenAI/Azure-compatible server.")

    @Option(name: .long, help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port to bind.")
    var port: Int = 8090

    @Option(name: .long, help: "Delay before each answer, in milliseconds.")
    var latencyMs: Int = 0

    @Option(name: .long, help: "Streaming speed in tokens per second (0: as fast as possible).")
    var tokensPerSecond: Double = 0

    func run() async throws {
        let config = SimulatorConfig(latencyMs: latencyMs, tokensPerSecond: tokensPerSecond)
        let application = SimulatorServer.application(
            routes: SimulatorRoutes(providers: [:], defaultConfig: config), host: host, port: port, logger: ConfigFile.logger()
        ) { port in print("simulator listening on \(host):\(port)") }
        try await application.runService()
    }
}
