import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import MessageBus

/// `helpdesk send`: publishes inbound messages from a file to `tickets.inbound`.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Publish ticket messages (a JSON object, a JSON array, or one object per line) to tickets.inbound.",
        discussion: """
            Each message is validated first, as intake will; invalid ones are reported and not sent unless
            --raw is given (useful to exercise dead-lettering). Keys are source/externalId, as intake expects.
            """)

    @OptionGroup var kafka: KafkaOptions

    @Argument(help: "The file, or - for standard input.")
    var file: String

    @Flag(help: "Send every line as it is, without validating (lines, not JSON arrays).")
    var raw = false

    func run() async throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            data = contents
        }
        let records = try Self.records(from: Array(data), raw: raw)
        let producer = try KafkaProducer(configuration: kafka.configuration, logger: kafka.logger)
        let receipts: [DeliveryReceipt]
        do {
            receipts = try await producer.publish(records)
        } catch {
            await producer.close()
            throw CLIError("publishing failed: \(error)")
        }
        await producer.close()
        for (record, receipt) in zip(records, receipts) {
            print("sent \(record.key.map { String(decoding: $0, as: UTF8.self) } ?? "-") → \(receipt.topic)[\(receipt.partition)]@\(receipt.offset)")
        }
        print("\(receipts.count) message(s) sent")
    }

    static func records(from bytes: [UInt8], raw: Bool) throws -> [OutgoingRecord] {
        if raw {
            return bytes.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }.map {
                OutgoingRecord(topic: Topics.inbound, key: nil, value: Array($0))
            }
        }
        let documents: [JSONValue]
        if let whole = try? JSONParser.parse(bytes) {
            if case .array(let items) = whole { documents = items } else { documents = [whole] }
        } else {
            documents = try bytes.split(separator: 0x0A).enumerated().compactMap { index, line in
                guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) else { return nil }
                do {
                    return try JSONParser.parse(Array(line))
                } catch {
                    throw CLIError("line \(index + 1): not JSON: \(error)")
                }
            }
        }
        return try documents.enumerated().map { index, document in
            let message: InboundMessage
            do {
                message = try InboundMessage.decode(document)
            } catch {
                throw CLIError("message \(index + 1): \(error)")
            }
            return OutgoingRecord(topic: Topics.inbound, key: TicketID.inboundKey(source: message.source, externalId: message.externalId),
                                  value: document.serialized())
        }
    }
}
