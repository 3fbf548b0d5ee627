import Foundation

/// What a classification found and decided.
public struct Classification: Sendable, Equatable, Encodable {
    public enum Route: String, Sendable, Codable { case support, docs }
    public var route: Route
    public var severity: Severity
    public var signals: [ClassificationSignal]
    public var confidence: Double
    public var reportedSeverity: Severity?
    public var disagreesWithReporter: Bool
    public var needsDedicatedContact: Bool
    /// Why the ticket went to the documentation channel, when it did.
    public var docsReason: String?
    /// Why a ticket filed as documentation is a support ticket all the same, when it is.
    public var supportReason: String?
}

/// What the classifier reads of a ticket.
public struct ClassifierInput: Sendable {
    public var subject: String
    public var description: String?
    public var impact: Impact?
    public var category: TicketCategory?
    public var reportedSeverity: Severity?

    public init(subject: String, description: String? = nil, impact: Impact? = nil, category: TicketCategory? = nil,
                reportedSeverity: Severity? = nil) {
        self.subject = subject
        self.description = description
        self.impact = impact
        self.category = category
        self.reportedSeverity = reportedSeverity
    }
}

/// Decides a ticket's severity the way a support engineer applying the policy table would,
/// and says why. Pure: rules in, classification out.
///
/// Every signal votes for its severity with its weight, times the weight of where it was found
/// (structured impact fields count more than words); the requester's own view adds a smaller
/// vote, so it settles close calls but never outweighs evidence. The most-voted severity wins;
/// a tie goes to the more urgent one. Confidence is the winner's share of all votes.
public struct Classifier: Sendable {
    public let rules: ClassificationRules
    private let index: PhraseIndex
    private var docsSubjectGroup: Int { rules.signals.count }
    private var docsProblemGroup: Int { rules.signals.count + 1 }

    public init(rules: ClassificationRules = .standard) {
        self.rules = rules
        index = PhraseIndex(
            groups: rules.signals.map(\.phrases) + [rules.docs.subjects, rules.docs.problems],
            except: rules.signals.map(\.except), negations: rules.negations)
    }

    public func classify(_ input: ClassifierInput) -> Classification {
        var signals = structuredSignals(input.impact)
        let inSubject = index.scan(input.subject)
        let inDescription = index.scan(input.description ?? "")
        for (group, rule) in rules.signals.enumerated() where !signals.contains(where: { $0.signal == rule.name }) {
            if let phrase = inSubject[group] {
                signals.append(ClassificationSignal(signal: rule.name, criterion: rule.criterion, severity: rule.severity,
                                                    foundIn: "subject: \"\(rule.phrases[phrase])\""))
            } else if let phrase = inDescription[group] {
                signals.append(ClassificationSignal(signal: rule.name, criterion: rule.criterion, severity: rule.severity,
                                                    foundIn: "description: \"\(rule.phrases[phrase])\""))
            }
        }

        var votes: [Severity: Double] = [:]
        for signal in signals {
            let rule = rules.signal(named: signal.signal)!
            let place = signal.foundIn.hasPrefix("impact.") ? rules.weights.structured : rules.weights.text
            votes[signal.severity, default: 0] += rule.weight * place
        }
        if let reported = input.reportedSeverity { votes[reported, default: 0] += rules.weights.reporter }
        let total = votes.values.reduce(0, +)
        let severity = Severity.allCases.max { a, b in
            let (va, vb) = (votes[a] ?? 0, votes[b] ?? 0)
            return va != vb ? va < vb : a < b
        }!
        let decided = total == 0 ? rules.defaultSeverity : severity
        let confidence = total == 0 ? 0.2 : ((votes[decided] ?? 0) / total * 100).rounded() / 100

        let contact = input.impact?.dedicatedContact?.trimmingCharacters(in: .whitespaces) ?? ""
        // Impact beats category: any critical or major signal makes it a support ticket.
        let impact = signals.filter { $0.severity != .minor }.map(\.signal)
        let docsReason = impact.isEmpty ? docsRouting(input, found: [inSubject, inDescription]) : nil
        let supportReason = input.category == .documentation && !impact.isEmpty
            ? "filed as documentation, but it reports service impact (\(impact.joined(separator: ", "))): a support ticket"
            : nil
        return Classification(
            route: docsReason == nil ? .support : .docs, severity: decided,
            signals: signals.sorted { ($0.severity.level, $0.signal) < ($1.severity.level, $1.signal) },
            confidence: confidence, reportedSeverity: input.reportedSeverity,
            disagreesWithReporter: input.reportedSeverity.map { $0 != decided } ?? false,
            needsDedicatedContact: decided == .critical && contact.isEmpty, docsReason: docsReason, supportReason: supportReason)
    }

    private func structuredSignals(_ impact: Impact?) -> [ClassificationSignal] {
        guard let impact else { return [] }
        var found = [(String, String)]()
        if impact.serviceDown == true { found.append(("serviceDown", "impact.serviceDown")) }
        switch impact.usersAffected {
        case .all?, .majority?: found.append(("majorityUsers", "impact.usersAffected"))
        case .multiple?: found.append(("multipleUsers", "impact.usersAffected"))
        case .few?, .one?: found.append(("fewUsers", "impact.usersAffected"))
        case nil: break
        }
        switch impact.workaround {
        case .none?: found.append(("noWorkaround", "impact.workaround"))
        case .temporary?: found.append(("temporaryWorkaround", "impact.workaround"))
        case .longTerm?, .notScalable?: found.append(("longTermWorkaround", "impact.workaround"))
        case nil: break
        }
        switch impact.installations {
        case .halted?: found.append(("installationsHalted", "impact.installations"))
        case .impaired?: found.append(("installationsImpaired", "impact.installations"))
        case .unaffected?, nil: break
        }
        if impact.cosmetic == true { found.append(("cosmetic", "impact.cosmetic")) }
        return found.compactMap { name, field in
            rules.signal(named: name).map {
                ClassificationSignal(signal: name, criterion: $0.criterion, severity: $0.severity, foundIn: field)
            }
        }
    }

    /// Documentation errors go to the documentation channel: the `documentation` category, or
    /// text that names documentation and a mistake in it. Asked only of a ticket that reports no
    /// service impact (an outage, users locked out is support, whatever it was filed as).
    private func docsRouting(_ input: ClassifierInput, found: [[Int?]]) -> String? {
        if input.category == .documentation { return "category is documentation" }
        guard let term = found.lazy.compactMap({ $0[docsSubjectGroup] }).first,
            let problem = found.lazy.compactMap({ $0[docsProblemGroup] }).first
        else { return nil }
        return "reports a documentation mistake (\"\(rules.docs.subjects[term])\", \"\(rules.docs.problems[problem])\")"
    }
}
