import Foundation
import KafkaTransport
import Logging

/// What every service reads from its environment. Service-specific settings are read by the
/// service itself from the same `SettingsReader`.
public struct ServiceConfiguration: Sendable {
    public var serviceName: String
    public var httpHost: String
    public var httpPort: Int
    public var httpLimits: HTTPLimits
    public var logLevel: Logger.Level
    public var kafka: KafkaConfiguration
    public var processing: ProcessingSettings

    public static let defaultBootstrapServers = "localhost:9092"

    public init(serviceName: String, reader: SettingsReader, defaultHTTPPort: Int = 8080) {
        self.serviceName = serviceName
        // Loopback unless told otherwise: compose sets HTTP_HOST=0.0.0.0 inside its containers.
        httpHost = reader.string("HTTP_HOST", default: "127.0.0.1")
        httpPort = reader.int("HTTP_PORT", default: defaultHTTPPort, range: 0...65535)
        httpLimits = HTTPLimits(
            maxConnections: reader.int("HTTP_MAX_CONNECTIONS", default: 512, range: 1...100_000),
            headerTimeout: .milliseconds(reader.int("HTTP_HEADER_TIMEOUT_MS", default: 10_000, range: 100...600_000)),
            bodyTimeout: .milliseconds(reader.int("HTTP_BODY_TIMEOUT_MS", default: 30_000, range: 100...600_000)))
        logLevel = reader.logLevel()
        var kafka = KafkaConfiguration.fromEnvironment(reader.environment)
        if kafka.bootstrapServers == nil { kafka = kafka.setting("bootstrap.servers", Self.defaultBootstrapServers) }
        kafka = kafka.withDefaults(["client.id": serviceName])
        // `{hostname}` lets every replica of a scaled compose service have its own static
        // group membership id (a restarted container keeps its hostname).
        if let instance = kafka.properties["group.instance.id"], instance.contains("{hostname}") {
            kafka = kafka.setting("group.instance.id", instance.replacingOccurrences(of: "{hostname}", with: ProcessInfo.processInfo.hostName))
        }
        self.kafka = kafka
        processing = ProcessingSettings(
            maxBatch: reader.int("PROCESSING_MAX_BATCH", default: 500, range: 1...10_000),
            maxAttempts: reader.int("PROCESSING_MAX_ATTEMPTS", default: 5, range: 1...100),
            retryBackoff: .milliseconds(reader.int("PROCESSING_RETRY_BACKOFF_MS", default: 200, range: 0...60_000)),
            stallAfter: .milliseconds(reader.int("PROCESSING_STALL_AFTER_MS", default: 10_000, range: 100...3_600_000)))
    }
}

/// How the consume → handle → publish → commit loop behaves.
public struct ProcessingSettings: Sendable {
    /// Records handled, published and committed together.
    public var maxBatch: Int
    /// Attempts for a record whose handling fails with a transient error before it is dead-lettered.
    public var maxAttempts: Int
    /// The first retry's delay; it doubles with each further attempt (capped at 30 s).
    public var retryBackoff: Duration
    /// How long a publish may keep failing before `/readyz` reports the loop stalled.
    public var stallAfter: Duration

    public init(
        maxBatch: Int = 500, maxAttempts: Int = 5, retryBackoff: Duration = .milliseconds(200),
        stallAfter: Duration = .seconds(10)
    ) {
        self.maxBatch = maxBatch
        self.maxAttempts = maxAttempts
        self.retryBackoff = retryBackoff
        self.stallAfter = stallAfter
    }

    func backoff(afterAttempt attempt: Int) -> Duration {
        min(retryBackoff * (1 << min(attempt - 1, 16)), .seconds(30))
    }
}
