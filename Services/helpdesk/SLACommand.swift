import ArgumentParser
import Foundation
import HelpdeskModel

/// `helpdesk sla`: deadline questions, answered by the same code the sla-timer uses.
struct SLACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla", abstract: "Answer deadline questions from the SLA policy.",
        subcommands: [Due.self, Elapsed.self, Explain.self])

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

        @Option(help: "When the ticket was opened (ISO-8601 with Z or an offset).")
        var opened: String

        func parsed() throws -> (Severity, Date) {
            guard let severity = Severity(parsing: severity) else {
                throw CLIError("--severity \"\(severity)\" is not one of \(Severity.allowedSpellings)")
            }
            return (severity, try instant(opened, option: "--opened"))
        }
    }

    struct Due: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print when the first response is due (UTC).")
        @OptionGroup var ticket: TicketOptions
        @OptionGroup var policy: PolicyOption

        func run() throws {
            let (severity, opened) = try ticket.parsed()
            print(ISO8601.format(try policy.load().firstResponseDue(severity: severity, openedAt: opened)))
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
            let (severity, opened) = try ticket.parsed()
            let policy = try policy.load()
            print(DeadlineExplanation(policy: policy, severity: severity, openedAt: opened).text)
        }
    }
}

/// A deadline explained for a support agent, in the policy's local time.
struct DeadlineExplanation {
    let policy: SLAPolicy
    let severity: Severity
    let openedAt: Date

    var text: String {
        let calendar = policy.calendar
        let target = policy.target(for: severity).firstResponse
        let due = policy.firstResponseDue(severity: severity, openedAt: openedAt)
        var lines = [
            "\(severity.name) (severity \(severity.level)): first response within \(DurationText.format(target)) of business time",
            "policy: \(hoursText) \(calendar.timeZone.identifier), \(daysText)"
                + (calendar.holidays.isEmpty ? "" : ", \(calendar.holidays.count) holiday(s)"),
            "opened \(local(openedAt))",
        ]
        if !calendar.isOpen(at: openedAt) {
            lines.append("  outside business hours: the clock starts at \(local(calendar.nextOpening(after: openedAt)))")
        }
        var total = Duration.zero
        for window in calendar.consumedIntervals(start: openedAt, businessDuration: target) {
            let used = Duration.seconds(Int64(window.upperBound.timeIntervalSince(window.lowerBound)))
            total += used
            lines.append("  \(local(window.lowerBound)) – \(localTime(window.upperBound))  \(DurationText.format(used)) (total \(DurationText.format(total)))")
        }
        lines.append("due \(ISO8601.format(due)) (\(local(due)))")
        return lines.joined(separator: "\n")
    }

    private var hoursText: String {
        policy.calendar.windows.map { "\(clock($0.start))–\(clock($0.end))" }.joined(separator: ", ")
    }

    private var daysText: String {
        policy.calendar.days.sorted().map(\.name).joined(separator: " ")
    }

    private func clock(_ seconds: Int32) -> String { String(format: "%02d:%02d", seconds / 3600, seconds % 3600 / 60) }

    private func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = policy.calendar.timeZone
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
