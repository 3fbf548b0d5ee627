/// A labelled ticket: `{"expect": critical|major|minor|docs, "ticket": {…ticket.opened…}}`.
public struct LabelledTicket: Sendable {
    public let line: Int
    public let label: ClassifierModel.Label
    public let ticket: TicketOpened

    public struct LineError: Error, CustomStringConvertible {
        public let line: Int
        public let problem: String
        public var description: String { "line \(line): \(problem)" }
    }

    /// The tickets of a JSON Lines file; blank lines are skipped, any other bad line is an error.
    public static func parse(jsonl: String) throws(LineError) -> [LabelledTicket] {
        var tickets = [LabelledTicket]()
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
                let label = ClassifierModel.Label(name: expected), let ticket = members["ticket"]
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
            tickets.append(LabelledTicket(line: number, label: label, ticket: opened))
        }
        return tickets
    }
}

/// How the classifier does on labelled tickets: accuracy, precision and recall per class, the
/// confusion matrix, and every critical ticket classified lower, with its explanation.
public struct ClassifierEvaluation: Sendable {
    public static let labels = ClassifierModel.Label.allCases.map(\.name)

    public struct Miss: Sendable {
        public let line: Int
        public let externalId: String
        public let expected: String
        public let actual: String
        public let subject: String
        public let classification: Classification
    }

    public private(set) var total = 0
    public private(set) var correct = 0
    /// matrix[expected][actual]
    public private(set) var matrix: [String: [String: Int]] = [:]
    public private(set) var misses: [Miss] = []

    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Of the tickets labelled `label`, the share classified so (1 when there are none).
    public func recall(_ label: String) -> Double {
        let row = matrix[label] ?? [:]
        let all = row.values.reduce(0, +)
        return all == 0 ? 1 : Double(row[label] ?? 0) / Double(all)
    }

    /// Of the tickets classified `label`, the share labelled so (1 when there are none).
    public func precision(_ label: String) -> Double {
        let all = Self.labels.reduce(0) { $0 + (matrix[$1]?[label] ?? 0) }
        return all == 0 ? 1 : Double(matrix[label]?[label] ?? 0) / Double(all)
    }

    /// Critical tickets classified major, minor or docs.
    public var criticalClassifiedLower: [Miss] { misses.filter { $0.expected == "critical" } }

    public typealias LineError = LabelledTicket.LineError

    public init(classifier: Classifier, jsonl: String) throws(LineError) {
        self.init(classifier: classifier, tickets: try LabelledTicket.parse(jsonl: jsonl))
    }

    public init(classifier: Classifier, tickets: [LabelledTicket]) {
        self.init(tickets: tickets, classifications: tickets.map { classifier.classify(ClassifierInput($0.ticket)) })
    }

    /// Figures for verdicts already made, one per ticket in order (cross-validation: each by a
    /// model fitted without it).
    public init(tickets: [LabelledTicket], classifications: [Classification]) {
        precondition(tickets.count == classifications.count, "one classification per ticket")
        for (labelled, result) in zip(tickets, classifications) {
            let actual = ClassifierModel.Label(result).name
            let expected = labelled.label.name
            if !record(expected: expected, actual: actual) {
                misses.append(Miss(line: labelled.line, externalId: labelled.ticket.externalId, expected: expected, actual: actual,
                                   subject: labelled.ticket.subject, classification: result))
            }
        }
    }

    /// Counts one verdict; whether it was right.
    @discardableResult
    private mutating func record(expected: String, actual: String) -> Bool {
        total += 1
        matrix[expected, default: [:]][actual, default: 0] += 1
        if actual == expected { correct += 1 }
        return actual == expected
    }

    /// How a verdict came about, on one line: the probabilities and each signal with its words.
    public static func explain(_ classification: Classification) -> String {
        let odds = labels.map { "\($0) \(String(format: "%.2f", classification.probabilities[$0] ?? 0))" }.joined(separator: ", ")
        let signals = classification.signals.map { "\($0.signal) (\($0.foundIn))" }
        let words = classification.words.isEmpty ? "" : "; words: " + classification.words.joined(separator: ", ")
        return "[\(odds)] " + (signals.isEmpty ? "no signal" : signals.joined(separator: "; ")) + words
    }

    /// Accuracy, precision and recall, the confusion matrix and the misses, for people.
    public var report: String {
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        var lines = [String(format: "accuracy %.1f%% (%d of %d)", accuracy * 100, correct, total), "",
                     "class      precision  recall   tickets"]
        for label in Self.labels {
            let count = (matrix[label] ?? [:]).values.reduce(0, +)
            lines.append(label.padding(toLength: 11, withPad: " ", startingAt: 0)
                         + percent(precision(label)).padding(toLength: 11, withPad: " ", startingAt: 0)
                         + percent(recall(label)).padding(toLength: 9, withPad: " ", startingAt: 0) + String(count))
        }
        lines += ["", "expected \\ classified  " + Self.labels.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined()]
        for expected in Self.labels {
            let row = Self.labels.map { String(matrix[expected]?[$0] ?? 0).padding(toLength: 9, withPad: " ", startingAt: 0) }
            lines.append(expected.padding(toLength: 23, withPad: " ", startingAt: 0) + row.joined())
        }
        let lower = criticalClassifiedLower
        lines += ["", "critical tickets classified lower: \(lower.count)"]
        for miss in lower {
            lines.append("  line \(miss.line) \(miss.externalId): classified \(miss.actual): \(miss.subject)")
            lines.append("    \(Self.explain(miss.classification))")
        }
        let others = misses.filter { $0.expected != "critical" }
        if !others.isEmpty {
            lines += ["", "other misses: \(others.count)"]
            lines += others.map { "  line \($0.line) \($0.externalId): expected \($0.expected), classified \($0.actual): \($0.subject)" }
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
