import ArgumentParser
import Foundation
import TollgateCore
import TollgateServer
import Yams

/// Where the running gateway's admin API is, and its token.
struct AdminOptions: ParsableArguments {
    @Option(name: .long, help: "The gateway's base URL (default $TOLLGATE_URL or http://127.0.0.1:8080).")
    var url: String?

    @Option(name: .long, help: "Admin token (default $TOLLGATE_ADMIN_TOKEN).")
    var token: String?

    var client: AdminClient {
        let environment = ProcessInfo.processInfo.environment
        return AdminClient(
            baseURL: url ?? environment["TOLLGATE_URL"] ?? "http://127.0.0.1:8080", token: token ?? environment["TOLLGATE_ADMIN_TOKEN"]
        )
    }

    /// Sends a change to an endpoint, waits until it is applied, prints `what` with the new
    /// config version and traffic.
    func change(_ endpoint: String, _ what: String, _ request: (AdminClient) async throws(AdminClientError) -> Void) async throws {
        let settled = try await call { client throws(AdminClientError) in
            try await request(client)
            return try await client.settled(endpoint)
        }
        print("\(endpoint): \(what) (config_version \(settled["config"]?["config_version"]?.intValue ?? 0)); traffic \(LifecycleText.traffic(settled))")
    }

    /// Runs an admin call; an error is printed and exits 1.
    func call<Value>(_ work: (AdminClient) async throws(AdminClientError) -> Value) async throws -> Value {
        do {
            return try await work(client)
        } catch {
            var stderr = StandardError()
            print("error: \(error)", to: &stderr)
            throw ExitCode(1)
        }
    }
}

/// `tollgate apply FILE` — creates or updates the file's endpoints on a running gateway.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply a configuration file's endpoints to a running gateway (idempotent).")

    @OptionGroup var admin: AdminOptions

    @Argument(help: "Configuration file (YAML); its `endpoints` are applied.")
    var file: String

    func run() async throws {
        let config = try ConfigFile.load(file)
        for endpoint in config.endpoints {
            let answer = try await admin.call { client throws(AdminClientError) in
                let applied = try await client.send(.PUT, "/\(endpoint.name)", body: JSONValue.encoded(endpoint))
                _ = try await client.settled(endpoint.name)
                return applied
            }
            print("\(endpoint.name): \(answer["change"]?.stringValue ?? "applied") (config_version \(answer["config"]?["config_version"]?.intValue ?? 0))")
        }
    }
}

/// `tollgate deploy ENDPOINT --entity FILE` — adds a version and moves traffic to it.
struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add a served-entity version to an endpoint and move traffic to it.")

    @OptionGroup var admin: AdminOptions

    @Argument(help: "The endpoint.")
    var endpoint: String

    @Option(name: .long, help: "The new served entity: a YAML/JSON file, or inline YAML/JSON.")
    var entity: String

    @Option(name: .long, help: "Give the new version only this percentage of the traffic (the others are scaled down).")
    var canary: Int?

    func run() async throws {
        let served = try LifecycleText.entity(entity)
        var body: JSONObject = ["entity": JSONValue.encoded(served)]
        if let canary { body["canary_percentage"] = .int(canary) }
        let payload = JSONValue.object(body)
        try await admin.change(endpoint, "deployed \(served.name)") { client throws(AdminClientError) in
            _ = try await client.send(.POST, "/\(endpoint)/deploy", body: payload)
        }
    }
}

/// `tollgate rollback ENDPOINT` — restores the previous traffic configuration.
struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restore an endpoint's previous served entities and traffic.")

    @OptionGroup var admin: AdminOptions

    @Argument(help: "The endpoint.")
    var endpoint: String

    func run() async throws {
        try await admin.change(endpoint, "rolled back") { client throws(AdminClientError) in
            _ = try await client.send(.POST, "/\(endpoint)/rollback")
        }
    }
}

/// `tollgate retire ENDPOINT VERSION` — removes a 0%-traffic version.
struct Retire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a served-entity version that has no traffic.")

    @OptionGroup var admin: AdminOptions

    @Argument(help: "The endpoint.")
    var endpoint: String

    @Argument(help: "The version (served entity name) to retire.")
    var version: String

    func run() async throws {
        try await admin.change(endpoint, "retired \(version)") { client throws(AdminClientError) in
            _ = try await client.send(.POST, "/\(endpoint)/retire", body: ["entity_name": .string(version)])
        }
    }
}

/// `tollgate versions ENDPOINT` — every version with traffic, state, age, requests and cost.
struct Versions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List an endpoint's versions: traffic, state, age, requests served and cost.")

    @OptionGroup var admin: AdminOptions

    @Argument(help: "The endpoint.")
    var endpoint: String

    @Flag(name: .long, help: "Print the JSON answer.")
    var json = false

    func run() async throws {
        let answer = try await admin.call { client throws(AdminClientError) in try await client.send(.GET, "/\(endpoint)/versions") }
        if json { print(answer.jsonText); return }
        let rows = (answer["versions"]?.arrayValue ?? []).map { version -> [String] in
            [
                version["entity_name"]?.stringValue ?? "", version["state"]?.stringValue ?? "",
                "\(version["traffic_percentage"]?.intValue ?? 0)%", LifecycleText.age(version["age_seconds"]?.intValue ?? 0),
                String(version["requests"]?.intValue ?? 0), LifecycleText.usd(version["token_cost_usd"]?.doubleValue ?? 0),
                LifecycleText.usd(version["compute_cost_usd"]?.doubleValue ?? 0), version["retired_reason"]?.stringValue ?? "",
            ]
        }
        print("\(endpoint) (config_version \(answer["config_version"]?.intValue ?? 0))")
        print(TextTable.render(header: ["version", "state", "traffic", "age", "requests", "token cost", "compute cost", "note"], rows: rows))
    }
}

/// Parsing and formatting shared by the lifecycle commands.
enum LifecycleText {
    /// A served entity from a file or inline YAML/JSON (JSON is YAML).
    static func entity(_ argument: String) throws -> ServedEntityConfig {
        let text: String
        if FileManager.default.fileExists(atPath: argument), let data = FileManager.default.contents(atPath: argument) {
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = argument
        }
        do {
            return try YAMLDecoder().decode(ServedEntityConfig.self, from: text)
        } catch let error as DecodingError {
            throw ValidationError("--entity: \(ConfigLoader.issue(for: error))")
        } catch {
            throw ValidationError("--entity: not a served entity (\(error))")
        }
    }

    static func traffic(_ endpoint: JSONValue) -> String {
        let routes = endpoint["config"]?["traffic_config"]?["routes"]?.arrayValue ?? []
        return routes.map { "\($0["served_entity_name"]?.stringValue ?? "?") \($0["traffic_percentage"]?.intValue ?? 0)%" }.joined(separator: ", ")
    }

    static func age(_ seconds: Int) -> String {
        switch seconds {
        case ..<120: "\(seconds)s"
        case ..<7200: "\(seconds / 60)m"
        case ..<172_800: "\(seconds / 3600)h"
        default: "\(seconds / 86400)d"
        }
    }

    static func usd(_ value: Double) -> String { String(format: "$%.6f", value) }
}
