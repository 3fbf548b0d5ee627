/// librdkafka properties for one client. Services build it from the environment:
/// `KAFKA_BOOTSTRAP_SERVERS` and any `KAFKA_<PROPERTY>` (`_` becomes `.`, lower-cased), so
/// SASL and SSL need no code changes.
public struct KafkaConfiguration: Sendable, Equatable {
    public var properties: [String: String]

    public init(_ properties: [String: String] = [:]) {
        self.properties = properties
    }

    public init(bootstrapServers: String, _ properties: [String: String] = [:]) {
        self.properties = properties
        self.properties["bootstrap.servers"] = bootstrapServers
    }

    public static let environmentPrefix = "KAFKA_"

    /// Every `KAFKA_*` variable as a librdkafka property.
    public static func fromEnvironment(_ environment: [String: String]) -> KafkaConfiguration {
        var properties = [String: String]()
        for (name, value) in environment where name.hasPrefix(environmentPrefix) && name.count > environmentPrefix.count {
            properties[propertyName(forVariable: name)] = value
        }
        return KafkaConfiguration(properties)
    }

    public static func propertyName(forVariable name: String) -> String {
        String(name.dropFirst(environmentPrefix.count)).lowercased().replacingOccurrences(of: "_", with: ".")
    }

    public var bootstrapServers: String? { properties["bootstrap.servers"] }

    /// Properties with these defaults filled in where not set explicitly.
    public func withDefaults(_ defaults: [String: String]) -> KafkaConfiguration {
        KafkaConfiguration(properties.merging(defaults) { explicit, _ in explicit })
    }

    public func setting(_ key: String, _ value: String) -> KafkaConfiguration {
        var copy = self
        copy.properties[key] = value
        return copy
    }

    /// Without the properties only a consumer takes (its group's, fetching, offsets, session),
    /// which a service's environment sets for its consumer and a producer would warn about.
    public var forProducer: KafkaConfiguration {
        KafkaConfiguration(properties.filter { !Self.isConsumerOnly($0.key) })
    }

    static func isConsumerOnly(_ property: String) -> Bool {
        ["group.", "fetch.", "queued.", "auto."].contains { property.hasPrefix($0) } || consumerOnlyProperties.contains(property)
    }

    private static let consumerOnlyProperties: Set = [
        "enable.auto.commit", "enable.auto.offset.store", "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms",
        "partition.assignment.strategy", "enable.partition.eof", "check.crcs", "isolation.level", "coordinator.query.interval.ms",
        "consume.callback.max.messages",
    ]

    /// Without the consumer group's properties (`group.id`, `group.instance.id`, …), which a
    /// service's environment sets for its consumer and a producer would only warn about.
    public var withoutGroupProperties: KafkaConfiguration {
        KafkaConfiguration(properties.filter { !$0.key.hasPrefix("group.") })
    }

    /// The properties with secrets masked, for logs.
    public var redacted: [String: String] {
        Dictionary(uniqueKeysWithValues: properties.map { key, value in
            (key, Self.isSecret(key) ? "*****" : value)
        })
    }

    public static func isSecret(_ property: String) -> Bool {
        let lowered = property.lowercased()
        return ["password", "secret", "jaas", "oauthbearer.config", "ssl.key.pem", "ssl_key", "credentials", "token"]
            .contains { lowered.contains($0) }
    }
}
