import Foundation
import HelpdeskModel

/// How the console writes durations, instants and names for people.
enum ConsoleFormat {
    /// `2h 05m`, `45m`, `30s`: business time, in hours and minutes past the first minute.
    static func duration(seconds: Int64) -> String {
        let total = abs(seconds)
        if total < 60 { return "\(total)s" }
        let hours = total / 3_600, minutes = (total % 3_600) / 60
        return hours == 0 ? "\(minutes)m" : "\(hours)h \(minutes < 10 ? "0" : "")\(minutes)m"
    }

    /// `2026-12-01 09:30 MST` in `zone`.
    static func instant(_ date: Date, in zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm zzz"
        return formatter.string(from: date)
    }

    static func iso(_ date: Date) -> String { ISO8601.format(date) }

    static func severity(_ severity: Severity?) -> String {
        guard let severity else { return "not set" }
        return "Sev \(severity.level) \(severity.name)"
    }

    static func escalation(_ state: EscalationState) -> String {
        switch state {
        case .none: "None"
        case .requested: "Requested"
        case .evaluating: "Evaluating"
        case .escalated: "Escalated"
        case .deEscalated: "De-escalated"
        }
    }

    /// `troubleshootingVerified` → `Troubleshooting verified`.
    static func words(_ camel: String) -> String {
        var result = ""
        for character in camel {
            if character.isUppercase, !result.isEmpty { result += " " + character.lowercased() } else { result.append(character) }
        }
        return result.prefix(1).uppercased() + result.dropFirst()
    }
}

/// A ticket's first-response clock as the board draws it: the time left, a bar of the budget
/// left, and the state in words too (colour is never the only signal).
struct ClockView {
    enum State: String { case none, running, warning, breached, met, stopped }
    var state: State
    /// Business seconds to the deadline; negative once past it.
    var secondsLeft: Int64?
    /// The share of the response budget left, 0...100.
    var percentLeft: Int
    var text: String
    var label: String

    init(_ row: TicketRecord, policy: SLAPolicy, now: Date) {
        switch row.clock {
        case .none: state = .none
        case .running: state = row.warnedAt == nil ? .running : .warning
        case .breached: state = .breached
        case .met: state = .met
        case .stopped: state = .stopped
        }
        if let due = row.dueAt, row.clock == .running || row.clock == .breached {
            let left = Int64(policy.calendar.remaining(now: now, due: due).components.seconds)
            secondsLeft = left
            let budget = row.clockSeverity.flatMap { policy.targets[$0] }.map { Int64($0.firstResponse.components.seconds) } ?? 0
            percentLeft = budget > 0 ? Int(max(0, min(100, left * 100 / budget))) : 0
            if row.clock == .breached || left < 0 { state = row.clock == .breached ? .breached : state }
            text = row.clock == .breached || left < 0
                ? "\(ConsoleFormat.duration(seconds: min(0, left))) over" : "\(ConsoleFormat.duration(seconds: left)) left"
        } else {
            secondsLeft = nil
            percentLeft = row.clock == .met ? 100 : 0
            switch row.clock {
            case .none: text = row.disposition == .received ? "awaiting classification" : "clock not started"
            case .met: text = "answered"
            case .stopped: text = "clock stopped"
            case .running, .breached: text = "no deadline"
            }
        }
        label = switch state {
        case .none: "Not started"
        case .running: "On track"
        case .warning: "Warning"
        case .breached: "Breached"
        case .met: "Met"
        case .stopped: "Stopped"
        }
    }
}

/// Predicted against due, for a ticket still waiting for its first response: the forecaster's
/// latest word (its ledger in `forecast.changelog`), else what it first said (the store's row).
struct ForecastView {
    enum State: String { case onTime = "on-time", late, atRisk = "at-risk" }
    var state: String
    var label: String
    var text: String

    init?(_ row: TicketRecord, live: ForecastLedger.Entry?, zone: TimeZone, now: Date) {
        guard row.respondedAt == nil, row.clock == .running || row.clock == .breached, let dueAt = row.dueAt,
              let expectedAt = live?.expectedAt ?? row.expectedAt
        else { return nil }
        let atRisk = row.clock == .running && (live?.atRisk ?? row.isAtRisk)
        let state: State = atRisk ? .atRisk : expectedAt > dueAt ? .late : .onTime
        self.state = state.rawValue
        label = switch state {
        case .atRisk: "At risk"
        case .late: "Expected late"
        case .onTime: "Expected in time"
        }
        func at(_ date: Date) -> String { ForecastWording.instant(date, now: now, zone: zone) }
        // The band's late end: service times 1.6 times as long, a scenario, not a bound.
        text = "answer expected \(at(expectedAt))" + (live?.latest.map { " (\(at($0)) if service runs slow)" } ?? "")
            + " · due \(at(dueAt))"
    }
}

/// One row of the board (and of the escalation desk).
struct BoardRow {
    var ticketId: String
    var href: String
    var sortKey: Int64
    var subject: String
    var organization: String
    var severity: String
    var severityClass: String
    var severityBy: String
    /// The criteria the classifier found met, when the severity in force is its.
    var reasons: String?
    var clock: ClockView
    var clockState: String
    var forecast: ForecastView?
    var escalation: String
    var assignee: String
    var engineer: String

    /// The ticket's page.
    static func href(ticketId: String) -> String {
        "/console/tickets/" + (ticketId.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? ticketId)
    }

    init(_ row: TicketRecord, policy: SLAPolicy, now: Date, forecast: ForecastLedger.Entry? = nil) {
        ticketId = row.ticketId
        href = Self.href(ticketId: row.ticketId)
        sortKey = row.dueSortKey
        subject = row.subject ?? "(\(row.source) \(row.externalId))"
        organization = row.organizationId ?? "—"
        severity = ConsoleFormat.severity(row.severity)
        severityClass = row.severity?.name ?? "unset"
        severityBy = switch row.severitySetBy {
        case nil: "reported: \(row.reportedSeverity?.name ?? "none")"
        case "classifier": "classifier" + (row.confidence.map { String(format: " %.0f%%", $0 * 100) } ?? "")
        case let person?: "set by \(person)"
        }
        reasons = row.severitySetBy == "classifier" ? row.classifierReasons.map { $0.count > 160 ? String($0.prefix(160)) + "…" : $0 } : nil
        clock = ClockView(row, policy: policy, now: now)
        clockState = clock.state.rawValue
        self.forecast = ForecastView(row, live: forecast, zone: policy.calendar.timeZone, now: now)
        escalation = row.escalation == .none ? "—" : ConsoleFormat.escalation(row.escalation)
        assignee = row.assignee ?? "unassigned"
        engineer = row.escalationEngineer ?? "—"
    }
}
