import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import MessageBus

/// `helpdesk tail`: prints a topic's records as they arrive.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the records of one or more topics as they arrive.",
        discussion: """
            Without --group, reads every partition from the beginning and commits nothing. With --group, joins that
            consumer group, shares the partitions with its other members and commits what it printed.
            """)

    @OptionGroup var kafka: KafkaOptions

    @Argument(help: "Topics to read.")
    var topics: [String]

    @Option(help: "Consumer group to join (commits what it printed).")
    var group: String?

    @Option(help: "Output: text (readable) or json (one object per line, with assignment events).")
    var format: OutputFormat = .text

    @Option(help: "Exit after this many records.")
    var max: Int?

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    func run() async throws {
        let commits = group != nil
        let groupID = group ?? "helpdesk-tail-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let bus = KafkaBus(configuration: kafka.configuration, logger: kafka.logger)
        let subscription = try await bus.subscribe(group: groupID, topics: topics)
        let printer = RecordPrinter(format: format)
        let limit = max
        let reading = Task {
            var printed = 0
            while limit.map({ printed < $0 }) ?? true {
                let batch = try await subscription.poll(max: 500)
                if batch.isEmpty { return }
                var offsets = [TopicPartition: Int64]()
                for event in batch {
                    if case .record(let record) = event {
                        guard limit.map({ printed < $0 }) ?? true else { break }
                        printed += 1
                        offsets[record.topicPartition] = record.offset + 1
                    }
                    printer.print(event)
                }
                fflush(nil)
                if commits { try await subscription.commit(offsets) }
            }
        }
        let stopping = Task {
            _ = await waitForInterrupt()
            reading.cancel()
        }
        do {
            try await reading.value
        } catch is CancellationError {
        } catch {
            stopping.cancel()
            try? await subscription.close()
            throw error
        }
        stopping.cancel()
        try await subscription.close()
    }
}

struct RecordPrinter {
    let format: TailCommand.OutputFormat

    func print(_ event: ConsumerEvent) {
        switch (format, event) {
        case (.json, .assigned(let partitions)):
            Swift.print(#"{"event":"assigned","partitions":\#(jsonList(partitions))}"#)
        case (.json, .revoked(let partitions)):
            Swift.print(#"{"event":"revoked","partitions":\#(jsonList(partitions))}"#)
        case (.json, .record(let record)):
            Swift.print(json(record))
        case (.text, .record(let record)):
            // What producers wrote is escaped: no control character reaches the terminal.
            let key = record.keyString.map(TerminalText.escaped) ?? "-"
            let value = record.value.flatMap { String(validating: $0, as: UTF8.self) }.map(TerminalText.escaped)
                ?? "<\(record.value?.count ?? 0) bytes>"
            Swift.print("\(record.topic)[\(record.partition)]@\(record.offset) \(ISO8601.format(record.timestamp)) key=\(key)")
            for header in record.headers {
                Swift.print("  \(TerminalText.escaped(header.name)): \(header.stringValue.map(TerminalText.escaped) ?? "<binary>")")
            }
            Swift.print("  \(value)")
        case (.text, _):
            break
        }
    }

    private func jsonList(_ partitions: [TopicPartition]) -> String {
        "[" + partitions.map { #"{"topic":\#(quoted($0.topic)),"partition":\#($0.partition)}"# }.joined(separator: ",") + "]"
    }

    private func json(_ record: ConsumerRecord) -> String {
        let headers = record.headers.map { "\(quoted($0.name)):\(quoted($0.stringValue ?? Data($0.value).base64EncodedString()))" }
        let value = record.value.map { bytes in
            String(validating: bytes, as: UTF8.self).map(quoted) ?? quoted(Data(bytes).base64EncodedString())
        } ?? "null"
        return #"{"event":"record","topic":\#(quoted(record.topic)),"partition":\#(record.partition),"offset":\#(record.offset),"#
            + #""key":\#(record.keyString.map(quoted) ?? "null"),"value":\#(value),"headers":{\#(headers.joined(separator: ","))},"#
            + #""timestamp":\#(quoted(ISO8601.format(record.timestamp)))}"#
    }

    private func quoted(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }
}
