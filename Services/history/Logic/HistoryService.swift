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
    var dependencies = dependencies
    // A transaction costs a sync to disk: larger polls keep more events per second
    // (`helpdesk bench history`: about 18,000/s at 500, 23,000/s at 2,000 on SQLite).
    if reader.optionalString("PROCESSING_MAX_BATCH") == nil { dependencies.configuration.processing.maxBatch = HistoryProcessor.defaultBatch }
    var tokens = NamedSecrets([])
    do {
        tokens = try NamedSecrets.parse(reader.optionalString("HISTORY_API_TOKENS") ?? "", variable: "HISTORY_API_TOKENS")
    } catch {
        reader.fail("\(error)")
    }
    let policy = reader.policy()
    let console = ConsoleSettings(reader)
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
            reader.fail("HISTORY_DATABASE_URL=\(SecretURL.redacted(url)): \(error)")
        }
    }
    return try buildService(dependencies) { context in
        guard let store else {
            try reader.validate()
            throw ConfigurationError(problems: ["HISTORY_DATABASE_URL: no store"])
        }
        if tokens.isEmpty { context.logger.warning("HISTORY_API_TOKENS is empty: the /v1 API refuses every request") }
        let api = HistoryAPI(repository: store, policy: policy, tokens: tokens, logger: context.logger)
        let feed = ConsoleFeed(repository: store, logger: context.logger)
        let publisher = context.publisher
        if console.signIn(readers: tokens).isEmpty {
            context.logger.warning("ESCALATION_TOKENS and HISTORY_API_TOKENS are empty: nobody can sign in to the console")
        }
        if console.generatedSecret {
            context.logger.warning(
                "CONSOLE_SESSION_SECRET is not set: console sessions end when this instance stops, and other instances refuse them")
        }
        // The board's predicted-against-due: the forecaster's ledger, followed in memory.
        let forecasts = ChangelogView(topic: Topics.forecastChangelog, bus: context.bus, queries: context.queries,
                                      required: false, logger: context.logger)
        let web = try WebConsole(
            repository: store, policy: policy, signIn: console.signIn(readers: tokens),
            sessions: ConsoleSessions(secret: console.secret, now: context.clock.now),
            commands: PublisherSink(publisher: publisher) { publisher.isReachable }, feed: feed,
            forecasts: { forecasts.current(ForecastLedger.Entry.self, forKey: $0) },
            alwaysSecure: console.secureCookies, now: context.clock.now, logger: context.logger)
        let storeReady = ReadinessFlag()
        context.readiness.add(.historyStoreReady) { storeReady.isSet }
        return ServiceParts(
            consumption: .batched(
                .init(group: group, topics: HistoryEvent.topics,
                      instanceID: context.configuration.kafka.properties["group.instance.id"]),
                HistoryProcessor(repository: store)),
            routes: { router in
                api.addRoutes(to: router)
                web.addRoutes(to: router)
            },
            services: services + [StoreStartup(store: store, ready: storeReady, logger: context.logger), feed, forecasts])
    }
}

/// The web console's settings: who signs in (`ESCALATION_TOKENS`, with `HISTORY_API_TOKENS` as
/// readers), the secret that signs session cookies, and whether cookies are always `Secure`.
struct ConsoleSettings {
    var people = EscalationTokens([])
    var secret: String
    var generatedSecret = false
    var secureCookies = false

    init(_ reader: SettingsReader) {
        do {
            people = try EscalationTokens.parse(reader.optionalString("ESCALATION_TOKENS") ?? "")
        } catch {
            reader.fail("\(error)")
        }
        if let secret = reader.optionalString("CONSOLE_SESSION_SECRET") {
            if secret.count < 32 { reader.fail("CONSOLE_SESSION_SECRET must have at least 32 characters") }
            self.secret = secret
        } else {
            secret = ConsoleSessions.randomSecret()
            generatedSecret = true
        }
        switch reader.optionalString("CONSOLE_SECURE_COOKIES") ?? "false" {
        case "true": secureCookies = true
        case "false": secureCookies = false
        default: reader.fail("CONSOLE_SECURE_COOKIES must be true or false")
        }
    }

    func signIn(readers: NamedSecrets) -> ConsoleSignIn { ConsoleSignIn(people: people, readers: readers) }
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

    /// Runs `body` on an opened store with what must run beside it, stopped after (a one-off
    /// reader such as the CLI; the service runs them in its group).
    public static func withRunning<T: Sendable>(
        _ opened: (repository: any HistoryRepository, services: [any Service]), _ body: (any HistoryRepository) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in opened.services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            return try await body(opened.repository)
        }
    }
}

/// PostgreSQL's connection pool as a `Service` of the group: it runs until the group shuts down.
struct PostgresPool: Service {
    let store: PostgresHistory

    func run() async throws {
        await cancelWhenGracefulShutdown { await store.run() }
    }
}

extension ReadinessCheck {
    /// The history store answers with this build's schema.
    static let historyStoreReady = ReadinessCheck("history-store-ready")
}

/// Checks (and migrates) the store at start, retrying with back-off until it answers, so that a
/// database that is down or too new shows on `/readyz` and in the log before any record needs it.
struct StoreStartup: Service {
    let store: any HistoryRepository
    let ready: ReadinessFlag
    let logger: Logger

    func run() async throws {
        var delay = Duration.milliseconds(200)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await store.ready()
                ready.set(true)
                break
            } catch {
                logger.warning("the history store is not ready", metadata: ["error": "\(error)"])
                let wait = delay
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                delay = min(delay * 2, .seconds(10))
            }
        }
        try? await gracefulShutdown()
    }
}
