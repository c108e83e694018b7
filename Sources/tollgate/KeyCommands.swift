import ArgumentParser
import Foundation
import TollgateCore
import TollgateServer
import TollgateStore

/// `tollgate keys` — API keys in the store (a running gateway sees changes within a second).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create, list and revoke API keys.", subcommands: [Create.self, List.self, Revoke.self])

    /// `tollgate keys create --owner alice@example.com [--group G]… [--service-principal] [--expires 30d]`
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is printed once, and only its hash is stored.")

        @OptionGroup var storeOptions: StoreOptions

        @Option(name: .long, help: "Who the key belongs to (a user's email or a service principal's name); recorded as `requester`.")
        var owner: String

        @Option(name: .long, help: "A group the owner belongs to (repeat for several).")
        var group: [String] = []

        @Flag(name: .long, help: "The owner is a service principal, not a user.")
        var servicePrincipal = false

        @Option(name: .long, help: "Lifetime, e.g. 30d, 12h, 90m (default: no expiry).")
        var expires: String?

        @Option(name: .long, help: "What the key is for.")
        var description: String?

        @Flag(name: .long, help: "Print the key and its details as JSON.")
        var json = false

        func run() async throws {
            let issued: (key: String, stored: StoredKey)
            do {
                issued = try await storeOptions.withDatabase { database in
                    try await KeyAdmin(store: SQLKeyStore(database: database)).create(
                        owner: owner, groups: group, servicePrincipal: servicePrincipal, expires: expires, description: description
                    )
                }
            } catch let error as KeyAdminError {
                throw ValidationError(error.description)
            }
            if json {
                guard case .object(var object) = KeyAdmin.json(issued.stored) else { return }
                object["key"] = .string(issued.key)
                print(JSONValue.object(object).jsonText)
                return
            }
            print(issued.key)
            var stderr = StandardError()
            print("key \(issued.stored.keyID) for \(owner)\(group.isEmpty ? "" : " (groups: \(group.joined(separator: ", ")))") — shown once; store it now", to: &stderr)
        }
    }

    /// `tollgate keys list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")

        @OptionGroup var storeOptions: StoreOptions

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            let keys = try await storeOptions.withDatabase { try await KeyAdmin(store: SQLKeyStore(database: $0)).list() }
            if json {
                print(JSONValue.array(keys.map { KeyAdmin.json($0) }).jsonText)
                return
            }
            let time: (Date?) -> String = { $0.map { String(UTCTimestamp.iso8601($0).prefix(19)) } ?? "-" }
            let rows = keys.map { key in
                [key.keyID, key.prefix + "…", key.owner + (key.servicePrincipal ? " (sp)" : ""), key.groups.joined(separator: ","),
                 time(key.createdAt), time(key.lastUsedAt), time(key.expiresAt), KeyAdmin.json(key)["state"]?.stringValue ?? ""]
            }
            print(TextTable.render(header: ["id", "prefix", "owner", "groups", "created", "last used", "expires", "state"], rows: rows))
        }
    }

    /// `tollgate keys revoke ID`
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by its id (key_…).")

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "The key's id, as `keys list` shows it.")
        var id: String

        func run() async throws {
            guard try await storeOptions.withDatabase({ try await KeyAdmin(store: SQLKeyStore(database: $0)).revoke(id) }) else {
                var stderr = StandardError()
                print("error: no key with id \(id)", to: &stderr)
                throw ExitCode(1)
            }
            print("\(id): revoked")
        }
    }
}
