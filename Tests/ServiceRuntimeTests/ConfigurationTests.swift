import KafkaTransport
import ServiceRuntime
import Testing

@Suite struct ConfigurationTests {
    @Test func kafkaPropertiesComeFromTheEnvironment() {
        let configuration = KafkaConfiguration.fromEnvironment([
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_PASSWORD": "hunter2", "KAFKA_": "ignored", "HTTP_PORT": "1",
        ])
        #expect(configuration.properties == [
            "bootstrap.servers": "k1:9092,k2:9092", "security.protocol": "SASL_SSL", "sasl.password": "hunter2",
        ])
        #expect(configuration.redacted["sasl.password"] == "*****")
        #expect(configuration.redacted["security.protocol"] == "SASL_SSL")
    }

    @Test func producersLeaveOutWhatOnlyAConsumerTakes() {
        let configuration = KafkaConfiguration.fromEnvironment([
            "KAFKA_BOOTSTRAP_SERVERS": "k1:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_LINGER_MS": "5",
            "KAFKA_GROUP_INSTANCE_ID": "sla-timer-a", "KAFKA_FETCH_WAIT_MAX_MS": "2", "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500", "KAFKA_AUTO_OFFSET_RESET": "earliest", "KAFKA_QUEUED_MAX_MESSAGES_KBYTES": "1024",
        ])
        #expect(configuration.forProducer.properties == [
            "bootstrap.servers": "k1:9092", "security.protocol": "SASL_SSL", "linger.ms": "5",
        ])
        #expect(configuration.withoutGroupProperties.properties["fetch.wait.max.ms"] == "2", "a group-less reader still fetches")
        #expect(configuration.withoutGroupProperties.properties["group.instance.id"] == nil)
    }

    @Test func defaultsApplyAndEveryBadValueIsReported() {
        let fine = SettingsReader([:])
        let defaults = ServiceConfiguration(serviceName: "intake", reader: fine, defaultHTTPPort: 8081)
        #expect(defaults.httpPort == 8081)
        #expect(defaults.logLevel == .info)
        #expect(defaults.kafka.bootstrapServers == "localhost:9092")
        #expect(defaults.kafka.properties["client.id"] == "intake")
        #expect(throws: Never.self) { try fine.validate() }

        let bad = SettingsReader(["HTTP_PORT": "eighty", "LOG_LEVEL": "loud", "PROCESSING_MAX_ATTEMPTS": "0"])
        _ = ServiceConfiguration(serviceName: "intake", reader: bad)
        #expect(throws: ConfigurationError(problems: [
            "HTTP_PORT=eighty is not a whole number in 0...65535",
            "LOG_LEVEL=loud is not one of trace|debug|info|notice|warning|error|critical",
            "PROCESSING_MAX_ATTEMPTS=0 is not a whole number in 1...100",
        ])) { try bad.validate() }
    }
}
