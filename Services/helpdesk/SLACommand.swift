import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import SLATimerService

/// `helpdesk sla`: deadline questions, answered by the same code the sla-timer uses.
struct SLACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla", abstract: "Answer deadline questions from the SLA policy.",
        subcommands: [Due.self, Elapsed.self, Explain.self, Status.self])

    struct PolicyOption: ParsableArguments {
        @Option(help: "Policy YAML (default: $HELPDESK_POLICY_FILE, else the built-in policy).")
        var policy: String?

        func load() throws -> SLAPolicy {
            guard let path = policy ?? ProcessInfo.processInfo.environment["HELPDESK_POLICY_FILE"] else { return .standard }
            do {
                return try SLAPolicy.load(file: path)
            } catch {
                throw CLIError("policy \(path): \(error)")
            }
        }
    }

    struct TicketOptions: ParsableArguments {
        @Option(help: "critical|major|minor or 1|2|3.")
        var severity: String

        @Option(help: "When the ticket was opened, or the cycle or period started (ISO-8601 with Z or an offset).")
        var opened: String

        @Option(help: "The customer's support plan (a policy's plans; default: the default policy).")
        var plan: String?

        @Option(help: "firstResponse|nextReply|periodicUpdate|resolution.")
        var metric: String = SLAMetric.firstResponse.rawValue

        /// The severity, the start, the plan's policy and the metric's target in it.
        func parsed(_ policy: SLAPolicy) throws -> (Severity, Date, SLAPolicy, SLAMetric, MetricTarget) {
            guard let severity = Severity(parsing: severity) else {
                throw CLIError("--severity \"\(severity)\" is not one of \(Severity.allowedSpellings)")
            }
            guard let metric = SLAMetric(rawValue: metric) else {
                throw CLIError("--metric \"\(metric)\" is not one of \(SLAMetric.allCases.map(\.rawValue).joined(separator: "|"))")
            }
            if let plan, policy.plans[plan] == nil {
                let known = policy.plans.keys.sorted()
                throw CLIError("--plan \"\(plan)\" has no policy of its own (" + (known.isEmpty
                    ? "the policy names no plans" : "plans: \(known.joined(separator: ", "))") + "); omit --plan for the default policy")
            }
            let planPolicy = policy.forPlan(plan)
            guard let target = planPolicy.target(for: severity).metric(metric) else {
                throw CLIError("\(plan.map { "the \($0) plan's" } ?? "the default policy's") \(severity.name) tickets have no \(metric.rawValue) target")
            }
            return (severity, try instant(opened, option: "--opened"), planPolicy, metric, target)
        }
    }

    struct Due: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print when a target is due (UTC): the first response unless --metric says.")
        @OptionGroup var ticket: TicketOptions
        @OptionGroup var policy: PolicyOption

        func run() throws {
            let (severity, opened, policy, _, target) = try ticket.parsed(try policy.load())
            print(ISO8601.format(policy.calendar(for: severity).due(start: opened, businessDuration: target.target)))
        }
    }

    struct Elapsed: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the business seconds between two instants.")
        @Option(help: "Start (ISO-8601).") var from: String
        @Option(help: "End (ISO-8601).") var to: String
        @OptionGroup var policy: PolicyOption

        func run() throws {
            let start = try instant(from, option: "--from")
            let end = try instant(to, option: "--to")
            print(try policy.load().calendar.businessElapsed(from: start, to: end).components.seconds)
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, in the policy's local time, the business windows a deadline consumed.")
        @OptionGroup var ticket: TicketOptions
        @OptionGroup var policy: PolicyOption

        func run() throws {
            let (severity, opened, policy, metric, target) = try ticket.parsed(try policy.load())
            print(DeadlineExplanation(policy: policy, severity: severity, metric: metric, target: target, openedAt: opened).text)
        }
    }
}

extension SLACommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a ticket's SLA clocks (first response and every other metric) as the sla-timer last recorded them.",
            discussion: "Reads the ticket's partition of sla-timer.changelog; works whichever instance owns the ticket.")

        @Argument(help: "The ticket: its id (tk_…) or source/externalId (crm/CRM-1042).")
        var ticket: String

        @Option(help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var policy: PolicyOption

        enum OutputFormat: String, ExpressibleByArgument { case text, json }

        func run() async throws {
            let ticketId = Self.ticketId(ticket)
            let policy = try policy.load()
            let bus = KafkaBus(configuration: kafka.configuration, logger: kafka.logger)
            let found: SLAClockStatus?
            do {
                found = try await SLAStatusLookup.status(of: ticketId.rawValue, bus: bus, policy: policy, now: Date())
            } catch {
                throw CLIError("reading \(Topics.slaTimerChangelog): \(error)")
            }
            guard let status = found else { throw CLIError("no first-response clock is recorded for \(ticket) (\(ticketId))") }
            switch format {
            case .json: print(String(decoding: try WireJSON.encode(status), as: UTF8.self))
            case .text: print(SLAStatusText(status: status, policy: policy).text)
            }
        }

        /// `tk_…` as is; `source/externalId` derived the way intake derives it.
        static func ticketId(_ text: String) -> TicketID {
            if text.hasPrefix("tk_") { return TicketID(rawValue: text) }
            guard let slash = text.firstIndex(of: "/") else { return TicketID(rawValue: text) }
            return TicketID(source: String(text[..<slash]), externalId: String(text[text.index(after: slash)...]))
        }
    }
}

/// A clock's status for a person: instants in UTC and in the policy's local time.
struct SLAStatusText {
    let status: SLAClockStatus
    let policy: SLAPolicy

    var text: String {
        var lines = ["\(status.ticketId) (\(status.source)/\(status.externalId))"]
        func line(_ label: String, _ value: String) { lines.append(label.padding(toLength: 11, withPad: " ", startingAt: 0) + value) }
        line("severity:", status.severity.map { "\($0.name) (\($0.level))" } ?? "not classified yet")
        line("state:", status.state.rawValue + (status.warned && status.state == .running ? " (warning sent)" : ""))
        if let startedAt = status.startedAt { line("started:", instant(startedAt)) }
        if let dueAt = status.dueAt {
            var due = instant(dueAt)
            if let remaining = status.remainingBusinessSeconds {
                due += remaining >= 0
                    ? ", \(DurationText.format(.seconds(remaining))) of business time left"
                    : ", overdue by \(DurationText.format(.seconds(-remaining))) of business time"
            }
            line("due:", due)
        }
        if let respondedAt = status.respondedAt { line("responded:", instant(respondedAt)) }
        if let resolvedAt = status.resolvedAt { line("resolved:", instant(resolvedAt)) }
        if let plan = status.plan { line("plan:", plan) }
        for metric in status.metrics ?? [] {
            var text = "\(metric.state.rawValue) (\(metric.severity.name)), started \(instant(metric.startedAt))"
            if let dueAt = metric.dueAt { text += ", due \(instant(dueAt))" }
            if let pausedAt = metric.pausedAt, metric.state == .paused { text += ", paused since \(instant(pausedAt))" }
            if let remaining = metric.remainingBusinessSeconds, metric.state == .running || metric.state == .paused {
                text += remaining >= 0 ? ", \(DurationText.format(.seconds(remaining))) left" : ", overdue by \(DurationText.format(.seconds(-remaining)))"
            }
            lines.append("\(metric.metric.rawValue)\(metric.instance.map { " #\($0)" } ?? ""):")
            lines.append("  " + text)
        }
        return lines.joined(separator: "\n")
    }

    private func instant(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = policy.calendar.timeZone
        formatter.dateFormat = "EEE HH:mm zzz"
        return "\(ISO8601.format(date)) (\(formatter.string(from: date)))"
    }
}

/// A deadline explained for a support agent, in the policy's local time.
struct DeadlineExplanation {
    let policy: SLAPolicy
    let severity: Severity
    var metric = SLAMetric.firstResponse
    let target: MetricTarget
    let openedAt: Date

    init(policy: SLAPolicy, severity: Severity, metric: SLAMetric = .firstResponse, target: MetricTarget? = nil, openedAt: Date) {
        self.policy = policy
        self.severity = severity
        self.metric = metric
        self.target = target ?? policy.target(for: severity).metric(.firstResponse)!
        self.openedAt = openedAt
    }

    private var calendar: BusinessCalendar { policy.calendar(for: severity) }

    private var what: String {
        switch metric {
        case .firstResponse: "first response"
        case .nextReply: "next reply"
        case .periodicUpdate: "an update"
        case .resolution: "resolution"
        }
    }

    var text: String {
        let calendar = self.calendar
        let target = self.target.target
        let due = calendar.due(start: openedAt, businessDuration: target)
        var lines = [
            "\(severity.name) (severity \(severity.level)): \(what) within \(DurationText.format(target)) of business time",
            (policy.planName.map { "plan \($0), " } ?? "") + "calendar: \(hoursText) \(calendar.timeZone.identifier), \(daysText)"
                + (calendar.holidays.isEmpty ? "" : ", \(calendar.holidays.count) holiday(s)"),
            "\(metric == .firstResponse || metric == .resolution ? "opened" : "started") \(local(openedAt))",
        ]
        if !self.target.pauses.isEmpty {
            lines.insert("pauses while: \(self.target.pauses.map(\.rawValue).sorted().joined(separator: ", "))", at: 2)
        }
        if !calendar.isOpen(at: openedAt) {
            lines.append("  outside business hours: the clock starts at \(local(calendar.nextOpening(after: openedAt)))")
        }
        var total = Duration.zero
        for window in calendar.consumedIntervals(start: openedAt, businessDuration: target) {
            let used = Duration.seconds(Int64(saturating: window.upperBound.timeIntervalSince(window.lowerBound)))
            total += used
            lines.append("  \(local(window.lowerBound)) – \(localTime(window.upperBound))  \(DurationText.format(used)) (total \(DurationText.format(total)))")
        }
        lines.append("due \(ISO8601.format(due)) (\(local(due)))")
        return lines.joined(separator: "\n")
    }

    private var hoursText: String {
        calendar.windows.map { "\(clock($0.start))–\(clock($0.end))" }.joined(separator: ", ")
    }

    private var daysText: String {
        calendar.days.sorted().map(\.name).joined(separator: " ")
    }

    private func clock(_ seconds: Int32) -> String { String(format: "%02d:%02d", seconds / 3600, seconds % 3600 / 60) }

    private func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = calendar.timeZone
        formatter.dateFormat = pattern
        return formatter
    }

    private func local(_ date: Date) -> String { formatter("EEE yyyy-MM-dd HH:mm:ss zzz").string(from: date) }
    private func localTime(_ date: Date) -> String { formatter("HH:mm:ss zzz").string(from: date) }
}

/// A one-line error for the user: `Helpdesk.main` prints it as `helpdesk: …` and exits 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func instant(_ text: String, option: String) throws -> Date {
    guard let date = ISO8601.parse(text) else {
        throw CLIError("\(option) \"\(text)\" is not an ISO-8601 instant with a time zone (e.g. 2026-03-06T23:30:00Z)")
    }
    return date
}
