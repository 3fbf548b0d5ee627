/// Accuracy of the classifier on a labelled corpus (`{"expect": …, "ticket": {…}}` lines),
/// with a confusion matrix. Labels: `critical`, `major`, `minor`, or `docs` for tickets that
/// belong in the documentation channel.
public struct ClassifierEvaluation: Sendable {
    public static let labels = ["critical", "major", "minor", "docs"]

    public struct Miss: Sendable {
        public let line: Int
        public let expected: String
        public let actual: String
        public let subject: String
    }

    public private(set) var total = 0
    public private(set) var correct = 0
    /// matrix[expected][actual]
    public private(set) var matrix: [String: [String: Int]] = [:]
    public private(set) var misses: [Miss] = []

    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    public struct LineError: Error, CustomStringConvertible {
        public let line: Int
        public let problem: String
        public var description: String { "line \(line): \(problem)" }
    }

    public init(classifier: Classifier, jsonl: String) throws(LineError) {
        for (index, line) in jsonl.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let document: JSONValue
            do {
                document = try JSONParser.parse(Array(line.utf8))
            } catch {
                throw LineError(line: number, problem: "not JSON: \(error)")
            }
            guard case .object(let members) = document, case .string(let expected)? = members["expect"],
                Self.labels.contains(expected), let ticket = members["ticket"]
            else {
                throw LineError(line: number, problem: "expected {\"expect\": critical|major|minor|docs, \"ticket\": {…}}")
            }
            let message: InboundMessage
            do {
                message = try InboundMessage.decode(ticket, defaultKind: .opened)
            } catch {
                throw LineError(line: number, problem: "ticket: \(error)")
            }
            guard case .opened(let opened) = message else { throw LineError(line: number, problem: "ticket must be ticket.opened") }
            let result = classifier.classify(ClassifierInput(opened))
            let actual = result.route == .docs ? "docs" : result.severity.name
            total += 1
            matrix[expected, default: [:]][actual, default: 0] += 1
            if actual == expected {
                correct += 1
            } else {
                misses.append(Miss(line: number, expected: expected, actual: actual, subject: opened.subject))
            }
        }
    }

    /// Accuracy, the confusion matrix and the misses, for people.
    public var report: String {
        var lines = [String(format: "accuracy %.1f%% (%d of %d)", accuracy * 100, correct, total), "",
                     "expected \\ classified  " + Self.labels.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined()]
        for expected in Self.labels {
            let row = Self.labels.map { String(matrix[expected]?[$0] ?? 0).padding(toLength: 9, withPad: " ", startingAt: 0) }
            lines.append(expected.padding(toLength: 23, withPad: " ", startingAt: 0) + row.joined())
        }
        if !misses.isEmpty {
            lines.append("")
            lines += misses.map { "line \($0.line): expected \($0.expected), classified \($0.actual): \($0.subject)" }
        }
        return lines.joined(separator: "\n")
    }
}

extension ClassifierInput {
    public init(_ ticket: TicketOpened) {
        self.init(subject: ticket.subject, description: ticket.description, impact: ticket.impact,
                  category: ticket.category, reportedSeverity: ticket.reportedSeverity)
    }

    public init(_ ticket: TicketReceived) {
        self.init(subject: ticket.subject, description: ticket.description, impact: ticket.impact,
                  category: ticket.category, reportedSeverity: ticket.reportedSeverity)
    }
}

import Foundation
