import Foundation
import HelpdeskModel
import MessageBus
import Metrics
import ServiceRuntime
import DequeModule
import Synchronization

/// `tickets.received` → `tickets.classified`, or `docs.feedback` for documentation errors.
/// A ticket event seen before (same `eventId`) is not classified again; ids of outputs
/// derive from the input's id, so a redelivery after a crash yields identical records.
public struct ClassifierProcessor: RecordProcessor {
    public static let service = "classifier"
    let classifier: Classifier
    /// Where customers report documentation errors: the answer to a ticket routed there.
    let documentationForm: String
    let recent: RecentIDs
    let metrics = ClassifierMetrics()

    public init(classifier: Classifier, documentationForm: String = SLAPolicy.standardDocumentationForm, rememberedIDs: Int = 100_000) {
        self.classifier = classifier
        self.documentationForm = documentationForm
        recent = RecentIDs(capacity: rememberedIDs)
    }

    public func process(_ record: ConsumerRecord) async throws -> [OutgoingRecord] {
        let event: Event<TicketReceived>
        do {
            event = try WireJSON.decode(Event<TicketReceived>.self, from: record.value ?? [])
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not a ticket.received event: \(error)")
        }
        guard recent.insert(event.eventId) else {
            metrics.duplicates.increment()
            return []
        }
        let ticket = event.payload
        let result = classifier.classify(ClassifierInput(ticket))
        let cause = event.eventId.rawValue
        func output<P: EventPayload>(_ topic: String, _ payload: P) -> OutgoingRecord {
            let out = Event(emittedBy: Self.service, causedBy: cause, ticketId: event.ticketId, source: event.source,
                            externalId: event.externalId, at: event.at, payload: payload)
            return OutgoingRecord(event: out, topic: topic, producer: Self.service)
        }
        /// A person told something about this ticket, on `notifications`; ids derive from the input's.
        func notify(_ audience: HelpdeskModel.Notification.Audience, _ kind: HelpdeskModel.Notification.Kind, recipient: String?, severity: Severity?, subject: String,
                    text: String) -> OutgoingRecord {
            let notification = HelpdeskModel.Notification(
                audience: audience, kind: kind, recipient: recipient, severity: severity, subject: subject, text: text,
                causedBy: event.eventId)
            return .notification(notification, ticketId: event.ticketId, source: event.source, externalId: event.externalId,
                                 at: event.at, producer: Self.service)
        }
        let requester = ticket.requester?.email
        if result.route == .docs {
            metrics.routedToDocs.increment()
            return [
                output(Topics.docsFeedback, TicketRoutedToDocs(subject: ticket.subject, reason: result.docsReason ?? "documentation")),
                notify(.customer, .documentationRouted, recipient: requester, severity: nil, subject: "Your ticket \(event.externalId) went to the documentation team",
                       text: "Ticket \(event.externalId) (\"\(ticket.subject.prefix(200))\") reports a documentation error, which the "
                           + "documentation team handles rather than support. Please use the documentation form at \(documentationForm)."),
            ]
        }
        metrics.classified[result.severity]?.increment()
        var outputs = [output(Topics.classified, TicketClassified(
            severity: result.severity, signals: result.signals, confidence: result.confidence,
            reportedSeverity: result.reportedSeverity, disagreesWithReporter: result.disagreesWithReporter,
            needsDedicatedContact: result.needsDedicatedContact, openedAt: ticket.openedAt, assignee: ticket.assignee,
            requesterEmail: requester, plan: ticket.plan, words: result.words.isEmpty ? nil : result.words))]
        // A critical ticket needs a dedicated customer resource who stays available.
        if result.needsDedicatedContact {
            outputs.append(notify(
                .customer, .dedicatedContactNeeded, recipient: requester, severity: result.severity,
                subject: "Ticket \(event.externalId) is critical: who is your dedicated contact?",
                text: "Ticket \(event.externalId) is classified critical. Our policy needs a dedicated contact on your side who "
                    + "stays available while we work on it: reply with their name, e-mail and phone number."))
            outputs.append(notify(
                .assignee, .dedicatedContactNeeded, recipient: ticket.assignee, severity: result.severity,
                subject: "Critical ticket \(event.externalId) has no dedicated customer contact",
                text: "Ticket \(event.externalId) is classified critical and names no dedicated customer contact; the customer"
                    + (requester.map { " (\($0))" } ?? "") + " was asked for one."))
        }
        return outputs
    }
}

/// The most recent event ids, bounded: the oldest is forgotten first.
/// The classifier's metric handles, made once.
struct ClassifierMetrics: Sendable {
    let duplicates = Counter(label: "helpdesk_classifier_duplicates_total")
    let routedToDocs = Counter(label: "helpdesk_classifier_routed_to_docs_total")
    let classified = Dictionary(uniqueKeysWithValues: Severity.allCases.map {
        ($0, Counter(label: "helpdesk_classifier_classified_total", dimensions: [("severity", $0.name)]))
    })
}

final class RecentIDs: Sendable {
    private struct State {
        var members = Set<EventID>()
        /// Oldest first.
        var order = Deque<EventID>()
    }
    private let state = Mutex(State())
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Remembers the id; false if it was already remembered.
    func insert(_ id: EventID) -> Bool {
        state.withLock { state in
            guard state.members.insert(id).inserted else { return false }
            state.order.append(id)
            if state.order.count > capacity, let oldest = state.order.popFirst() { state.members.remove(oldest) }
            return true
        }
    }
}
