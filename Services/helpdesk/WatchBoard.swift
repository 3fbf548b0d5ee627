import Foundation
import HelpdeskModel
import MessageBus

/// The tickets `helpdesk watch` shows, built from `sla.events` and `escalation.events`.
struct WatchBoard {
    enum ClockState: String { case running, warned, breached, met, stopped, answeredLate = "answered late", resolvedLate = "resolved late" }

    struct Ticket {
        var source: String
        var externalId: String
        var severity: Severity?
        var dueAt: Date?
        var clock: ClockState?
        var escalation: EscalationState = .none
        var updatedAt: Date

        /// Open: its first response is still due (or overdue), or an escalation is running.
        var isOpen: Bool {
            clock == .running || clock == .warned || clock == .breached
                || [.requested, .evaluating, .escalated].contains(escalation)
        }
    }

    private(set) var tickets: [TicketID: Ticket] = [:]

    /// Applies one record of either topic; anything else (or unreadable) is ignored.
    mutating func apply(_ record: ConsumerRecord) {
        guard let document = try? EventDocument(record.value ?? []) else { return }
        let envelope = document.envelope
        var ticket = tickets[envelope.ticketId]
            ?? Ticket(source: envelope.source, externalId: envelope.externalId, updatedAt: envelope.at)
        ticket.updatedAt = max(ticket.updatedAt, envelope.at)
        func payload<P: EventPayload>(_: P.Type) -> P? { try? document.event(P.self).payload }
        // The board follows the first-response clock; the other metrics' events are not its state.
        if SLAMetricFact.isFurtherMetric(document) { return }
        switch envelope.type {
        case SLAStarted.type:
            guard let started = payload(SLAStarted.self) else { return }
            ticket.severity = started.severity
            ticket.dueAt = started.dueAt
            if ticket.clock == nil { ticket.clock = .running }
        case SLAWarning.type:
            if ticket.clock == .running || ticket.clock == nil { ticket.clock = .warned }
        case SLARecalculated.type:
            guard let recalculated = payload(SLARecalculated.self) else { return }
            ticket.severity = recalculated.severity
            ticket.dueAt = recalculated.dueAt
            if ticket.clock == .warned { ticket.clock = .running }
        case SLABreached.type: ticket.clock = .breached
        case SLAMet.type: ticket.clock = .met
        case SLAStopped.type: ticket.clock = .stopped
        // Answered or resolved after the breach: off the open board, with how it ended.
        case SLARespondedAfterBreach.type: if ticket.clock != .resolvedLate { ticket.clock = .answeredLate }
        case SLAResolvedAfterBreach.type: ticket.clock = .resolvedLate
        case EscalationRequested.type: ticket.escalation = .requested
        case EscalationEvaluating.type: ticket.escalation = .evaluating
        case EscalationEscalated.type: ticket.escalation = .escalated
        case EscalationDeEscalated.type: ticket.escalation = .deEscalated
        default: return
        }
        tickets[envelope.ticketId] = ticket
    }

    /// The board as text: open tickets (or all), most urgent first, due instants in `timeZone`.
    func render(now: Date, timeZone: TimeZone, all: Bool, limit: Int) -> String {
        let shown = tickets.values.filter { all || $0.isOpen }.sorted { a, b in
            (a.dueAt ?? .distantFuture, a.severity?.level ?? 9, a.externalId) < (b.dueAt ?? .distantFuture, b.severity?.level ?? 9, b.externalId)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEE yyyy-MM-dd HH:mm zzz"
        var lines = [
            "HelpdeskSLA — \(shown.count) \(all ? "" : "open ")ticket(s) of \(tickets.count) seen, \(formatter.string(from: now))",
            Self.columns("TICKET", "SEVERITY", "FIRST RESPONSE DUE", "IN", "CLOCK", "ESCALATION"),
        ]
        for ticket in shown.prefix(limit) {
            lines.append(Self.columns(
                TerminalText.escaped("\(ticket.source)/\(ticket.externalId)"), ticket.severity?.name ?? "-",
                ticket.dueAt.map(formatter.string(from:)) ?? "-",
                ticket.dueAt.map { Self.relative($0.timeIntervalSince(now)) } ?? "-",
                ticket.clock?.rawValue ?? "-", ticket.escalation == .none ? "-" : ticket.escalation.rawValue))
        }
        if shown.count > limit { lines.append("… and \(shown.count - limit) more") }
        return lines.joined(separator: "\n")
    }

    static func columns(_ values: String...) -> String {
        zip(values, [28, 9, 27, 12, 9, 12]).map { value, width in value.padding(toLength: max(width, value.count), withPad: " ", startingAt: 0) }
            .joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    /// "in 2h 05m", "12m overdue".
    static func relative(_ interval: TimeInterval) -> String {
        let minutes = Int(Int64(saturating: abs(interval) / 60))
        let text = minutes >= 24 * 60 ? "\(minutes / 1440)d \(minutes % 1440 / 60)h"
            : minutes >= 60 ? "\(minutes / 60)h \(String(format: "%02d", minutes % 60))m"
            : minutes > 0 ? "\(minutes)m" : "\(Int(abs(interval)))s"
        return interval >= 0 ? text : "\(text) late"
    }
}
