import Foundation
import PostgresNIO
import TollgateStore

/// A `postgres://user:password@host:port/database?sslmode=…` store URL (`postgresql://` too),
/// read as libpq reads it: port 5432 and database = user when absent, `sslmode` one of
/// `disable`, `prefer` (the default) or `require`.
struct PostgresURL: Sendable, Equatable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var sslMode: String

    static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    init(_ url: String) throws(StoreError) {
        guard Self.isPostgres(url), let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw StoreError(code: .unsupportedURL, message: "store URL is not postgres://user:password@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError(code: .unsupportedURL, message: "store URL names no user (postgres://USER:PASSWORD@host/database)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw StoreError(code: .unsupportedURL, message: "store URL port \(port) is not in 1...65535")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var sslMode = "prefer"
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, ["disable", "prefer", "require"].contains(value) else {
                    throw StoreError(code: .unsupportedURL, message: "store URL sslmode must be disable, prefer or require")
                }
                sslMode = value
            default:
                throw StoreError(code: .unsupportedURL, message: "store URL has an unknown parameter \(item.name)")
            }
        }
        self.host = host
        self.port = port
        self.user = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = path.isEmpty ? self.user : (path.removingPercentEncoding ?? path)
        self.sslMode = sslMode
    }

    /// The URL with the password hidden, for logs and errors.
    var redacted: String { "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)" }

    /// Seconds to open a connection: an unreachable database fails start-up within this.
    static let connectTimeoutSeconds: Int64 = 10

    /// A single connection's configuration, with the pool's TLS mode and connect timeout.
    func connectionConfiguration() throws(StoreError) -> PostgresConnection.Configuration {
        let pool = try clientConfiguration()
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "require": tls = .require(try Self.sslContext())
        default: tls = .prefer(try Self.sslContext())
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
        configuration.options.additionalStartupParameters = pool.options.additionalStartupParameters
        return configuration
    }

    private static func sslContext() throws(StoreError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: .makeClientConfiguration())
        } catch {
            throw StoreError(code: .openFailed, message: "cannot set up TLS for the store", underlying: error)
        }
    }

    func clientConfiguration() throws(StoreError) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "require": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
        // No statement may hold a connection (and the rows waiting behind it) for ever.
        configuration.options.additionalStartupParameters = [("statement_timeout", "60000"), ("application_name", "tollgate")]
        return configuration
    }
}
