import Foundation
import HelpdeskModel
import MessageBus
import Metrics
import ServiceRuntime

/// Turns inbound records into normalized events: `ticket.opened` → `tickets.received` (or
/// `tickets.rejected` for an organization without support), activity → `tickets.activity`.
/// Malformed records are refused with the precise reason and dead-lettered by the loop.
///
/// Output is a pure function of the input record: event ids derive from the record's
/// position, and receipt time is the record's broker timestamp, so a redelivered record
/// yields identical events that downstream services drop as duplicates.
public struct IntakeProcessor: RecordProcessor {
    public static let service = "intake"
    let eligibility: Eligibility
    let window: InstantWindow
    let now: @Sendable () -> Date
    /// `helpdesk_intake_rejected_total{reason}`, one handle per reason, made once.
    private let rejected: [TicketRejected.Reason: Counter]
    private let lag: Timer

    public init(eligibility: Eligibility, window: InstantWindow = .standard, now: @escaping @Sendable () -> Date = Date.init) {
        self.eligibility = eligibility
        self.window = window
        self.now = now
        rejected = Dictionary(uniqueKeysWithValues: TicketRejected.Reason.allCases.map {
            ($0, Counter(label: "helpdesk_intake_rejected_total", dimensions: [("reason", $0.rawValue)]))
        })
        lag = Timer(label: "helpdesk_intake_lag_seconds", preferredDisplayUnit: .seconds)
    }

    public func process(_ record: ConsumerRecord) async throws -> [OutgoingRecord] {
        let message: InboundMessage
        do {
            message = try InboundMessage.decode(record.value ?? [])
        } catch {
            throw UnprocessableRecord(code: error.code, reason: error.description)
        }
        let now = now()
        // The broker timestamp is the producer's clock (CreateTime): one in 1970 would breach
        // the ticket at once, so a timestamp outside the window is refused like a bad field.
        if let problem = window.problem(with: record.timestamp, receipt: now) {
            throw UnprocessableRecord(code: "timestamp_out_of_range", reason: "the record's timestamp \(problem)")
        }
        let receivedAt = ISO8601.wholeSeconds(min(record.timestamp, now))
        let instantErrors = message.instantErrors(receipt: receivedAt, window: window)
        guard instantErrors.isEmpty else {
            let rejection = InboundRejection.invalidFields(instantErrors)
            throw UnprocessableRecord(code: rejection.code, reason: rejection.description)
        }
        lag.recordInterval(since: record.timestamp, now: now)
        if case .opened(let ticket) = message, let (reason, _) = eligibility.refusal(for: ticket.organizationId) {
            rejected[reason]?.increment()
        }
        return Self.events(for: message, cause: Self.cause(of: record), receivedAt: receivedAt, eligibility: eligibility)
    }

    /// The identity of an inbound record: its position in `tickets.inbound`.
    public static func cause(of record: ConsumerRecord) -> String { "\(record.topic)/\(record.partition)/\(record.offset)" }
    public static func cause(of receipt: DeliveryReceipt) -> String { "\(receipt.topic)/\(receipt.partition)/\(receipt.offset)" }

    /// The id of the event intake emits for an inbound message at that position; the HTTP
    /// API answers it before the event exists.
    public static func eventID(for message: InboundMessage, cause: String, eligibility: Eligibility) -> EventID {
        let type: String
        switch message {
        case .opened(let ticket):
            type = eligibility.refusal(for: ticket.organizationId) == nil ? TicketReceived.type : TicketRejected.type
        case .message: type = TicketMessagePosted.type
        case .severityChanged: type = TicketSeverityChanged.type
        case .statusChanged: type = TicketStatusChanged.type
        case .assigned: type = TicketAssigned.type
        case .shift(let change): type = change.started ? AgentShiftStarted.type : AgentShiftEnded.type
        }
        return EventID.derive([service, type, message.ticketId.rawValue, cause])
    }

    static func events(for message: InboundMessage, cause: String, receivedAt: Date, eligibility: Eligibility) -> [OutgoingRecord] {
        let ticketId = message.ticketId
        func record<P: EventPayload>(_ topic: String, key: String, _ payload: P) -> OutgoingRecord {
            let event = Event(emittedBy: service, causedBy: cause, ticketId: ticketId, source: message.source,
                              externalId: message.externalId, at: receivedAt, payload: payload)
            return OutgoingRecord(event: event, topic: topic, key: key, producer: service)
        }
        switch message {
        case .opened(let ticket):
            if let (reason, sentence) = eligibility.refusal(for: ticket.organizationId) {
                // Keyed by ticket like every internal topic: escalation reads it beside the ticket's activity.
                return [record(Topics.rejected, key: ticketId.rawValue,
                               TicketRejected(organizationId: ticket.organizationId, reason: reason, message: sentence))]
            }
            let openedAt = min(ticket.openedAt ?? receivedAt, receivedAt)
            return [record(Topics.received, key: ticketId.rawValue, TicketReceived(
                organizationId: ticket.organizationId, subject: ticket.subject, description: ticket.description,
                requester: ticket.requester, reportedSeverity: ticket.reportedSeverity, impact: ticket.impact,
                category: ticket.category, openedAt: openedAt, receivedAt: receivedAt, assignee: ticket.assignee,
                plan: eligibility.organizations[ticket.organizationId]))]
        case .message(let posted):
            return [record(Topics.activity, key: ticketId.rawValue, TicketMessagePosted(
                author: posted.author, isPublic: posted.isPublic, body: posted.body,
                cc: posted.cc.map(EmailAddress.normalize), sentAt: min(posted.sentAt ?? receivedAt, receivedAt)))]
        case .severityChanged(let change):
            return [record(Topics.activity, key: ticketId.rawValue, TicketSeverityChanged(
                severity: change.severity, changedBy: change.changedBy, reason: change.reason,
                changedAt: min(change.changedAt ?? receivedAt, receivedAt)))]
        case .assigned(let assignment):
            return [record(Topics.activity, key: ticketId.rawValue, TicketAssigned(
                assignee: assignment.assignee, assignedBy: assignment.assignedBy,
                assignedAt: min(assignment.assignedAt ?? receivedAt, receivedAt)))]
        case .statusChanged(let change):
            return [record(Topics.activity, key: ticketId.rawValue, TicketStatusChanged(
                status: change.status, changedAt: min(change.changedAt ?? receivedAt, receivedAt)))]
        case .shift(let change):
            // A shift may be announced ahead: `at` is kept as given, not clamped to the receipt.
            let from = change.at ?? receivedAt
            return [change.started
                ? record(Topics.staffing, key: change.agent, AgentShiftStarted(agent: change.agent, team: change.team, from: from, until: change.until))
                : record(Topics.staffing, key: change.agent, AgentShiftEnded(agent: change.agent, team: change.team, from: from, until: change.until))]
        }
    }
}

extension Timer {
    func recordInterval(since start: Date, now: Date) {
        recordNanoseconds(max(0, now.timeIntervalSince(start)).saturatingNanoseconds)
    }
}
