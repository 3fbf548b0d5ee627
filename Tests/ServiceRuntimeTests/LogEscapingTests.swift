import Logging
import ServiceRuntime
import Synchronization
import Testing

final class Lines: Sendable {
    let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
}

/// Keeps what reaches it, to see what a log line would hold.
struct CapturingLogHandler: LogHandler {
    let lines: Lines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let merged = self.metadata.merging(metadata ?? [:]) { _, new in new }
        lines.append("\(message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}

@Suite("Log escaping")
struct LogEscapingTests {
    @Test func fieldsFromTicketsCannotForgeLogLines() {
        let lines = Lines()
        let logger = Logger(label: "test") { _ in EscapingLogHandler(CapturingLogHandler(lines: lines)) }
        var tagged = logger
        tagged[metadataKey: "ticket"] = "crm/1\n2026-11-30T12:00:00Z critical : admin logged in"
        tagged.warning("refused \("subject\u{1B}[2J")", metadata: ["reason": "a\r\nb", "list": ["x\ty"], "nested": ["k": "\u{0}"]])
        let line = lines.all.joined()
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}") && !line.contains("\u{0}"))
        #expect(line.contains(#"refused subject\u{1B}[2J"#))
        #expect(line.contains(#"crm/1\n2026-11-30T12:00:00Z"#))
        #expect(line.contains(#"a\r\nb"#))
    }
}
