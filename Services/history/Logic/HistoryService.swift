import Foundation
import HelpdeskModel
import HistoryStore
import Logging
import ServiceLifecycle
import ServiceRuntime

/// The history service, built on `dependencies`' broker: the projector (consumer group
/// `history` over the topics `HistoryEvent.topics` names) and the read API, on the store
/// `HISTORY_DATABASE_URL` names. `repository` replaces that store (tests).
public func buildHistory(_ dependencies: ServiceDependencies, repository: (any HistoryRepository)? = nil) throws -> BuiltService {
    let reader = dependencies.reader
    var tokens = NamedSecrets([])
    do {
        tokens = try NamedSecrets.parse(reader.optionalString("HISTORY_API_TOKENS") ?? "", variable: "HISTORY_API_TOKENS")
    } catch {
        reader.fail("\(error)")
    }
    let policy = reader.policy()
    // A second group (and store) rebuilds the history from the topics beside the live one.
    let group = reader.string("HISTORY_CONSUMER_GROUP", default: ConsumerGroups.history)
    var store = repository
    var services = [any Service]()
    if store == nil {
        let url = reader.string("HISTORY_DATABASE_URL", default: HistoryDatabase.defaultURL)
        do {
            let opened = try HistoryDatabase.open(url, logger: dependencies.logger)
            store = opened.repository
            services = opened.services
        } catch {
            reader.fail("HISTORY_DATABASE_URL=\(HistoryDatabase.redacted(url)): \(error)")
        }
    }
    return try buildService(dependencies) { context in
        guard let store else {
            try reader.validate()
            throw ConfigurationError(problems: ["HISTORY_DATABASE_URL: no store"])
        }
        if tokens.isEmpty { context.logger.warning("HISTORY_API_TOKENS is empty: the /v1 API refuses every request") }
        let api = HistoryAPI(repository: store, policy: policy, tokens: tokens, logger: context.logger)
        return ServiceParts(
            consumption: .batched(
                .init(group: group, topics: HistoryEvent.topics,
                      instanceID: context.configuration.kafka.properties["group.instance.id"]),
                HistoryProcessor(repository: store)),
            routes: { api.addRoutes(to: $0) },
            services: services)
    }
}

/// Opens the store a URL names: `sqlite:PATH` (a file, created with its folder) or
/// `postgres://user:password@host:port/database[?sslmode=disable|prefer|require]`.
public enum HistoryDatabase {
    public static let defaultURL = "sqlite:data/history.sqlite"

    /// The repository and what must run beside it (PostgreSQL's connection pool).
    public static func open(_ url: String, logger: Logger) throws -> (repository: any HistoryRepository, services: [any Service]) {
        if url.hasPrefix("sqlite:") {
            let path = String(url.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw HistoryStoreError.badURL("sqlite: needs a file path, e.g. sqlite:data/history.sqlite") }
            return (try SQLiteHistory(path: path), [])
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let postgres = try PostgresHistory(url: url, logger: logger)
            return (postgres, [PostgresPool(store: postgres)])
        }
        throw HistoryStoreError.badURL("use sqlite:PATH or postgres://user:password@host:port/database")
    }

    /// The URL with its password replaced, for logs and errors.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "postgres://***"
    }
}

/// PostgreSQL's connection pool as a `Service` of the group: it runs until the group shuts down.
struct PostgresPool: Service {
    let store: PostgresHistory

    func run() async throws {
        await cancelWhenGracefulShutdown { await store.run() }
    }
}
