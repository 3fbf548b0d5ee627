import ArgumentParser
import Foundation
import KafkaTransport
import Logging

/// Kafka connection options shared by the commands that talk to a broker. Every `KAFKA_*`
/// environment variable applies, as for the services.
struct KafkaOptions: ParsableArguments {
    @Option(name: .long, help: "Bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS, else localhost:9092).")
    var bootstrapServers: String?

    var configuration: KafkaConfiguration {
        var configuration = KafkaConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        if let bootstrapServers { configuration = configuration.setting("bootstrap.servers", bootstrapServers) }
        if configuration.bootstrapServers == nil { configuration = configuration.setting("bootstrap.servers", "localhost:9092") }
        return configuration
    }

    var logger: Logger {
        var logger = Logger(label: "helpdesk")
        logger.logLevel = .error
        return logger
    }
}
