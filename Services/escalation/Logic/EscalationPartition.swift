import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The escalations of the tickets in one partition.
///
/// Inputs: `tickets.classified` (a ticket's identity and severity), customer messages on
/// `tickets.activity` with the escalation address in CC, `sla.breached` on `sla.events` (for
/// severities whose policy escalates on breach), and engineers' commands on
/// `escalation.commands`. Outputs: `escalation.*` events, each naming its cause (`causedBy`),
/// and `notifications`. Ids derive from the ticket, the event type and the cause, and `at` from
/// the input, so a redo is byte-identical.
public final class EscalationPartition: PartitionState {
    public static let service = "escalation"

    /// How long a request for a ticket not yet classified is held (`ESCALATION_HOLD_MS`).
    public static let standardHold = Duration.seconds(600)

    let partition: Int32
    let policy: SLAPolicy
    let metrics: EscalationMetrics
    let hold: Duration
    private(set) var tickets: [TicketID: TicketEscalation] = [:]
    /// When each held request's hold ends.
    private var holds: [TicketID: Date] = [:]

    public init(partition: Int32, policy: SLAPolicy, metrics: EscalationMetrics, hold: Duration = standardHold) {
        self.partition = partition
        self.policy = policy
        self.metrics = metrics
        self.hold = hold
    }

    public func ticket(_ id: TicketID) -> TicketEscalation? { tickets[id] }

    // MARK: PartitionState

    public func restore(_ record: ConsumerRecord) throws {
        let (id, value) = try record.changelogEntry()
        let restored: TicketEscalation?
        do {
            restored = try value.map { try WireJSON.decode(TicketEscalation.self, from: $0) }
        } catch {
            throw UnprocessableRecord(code: "invalid_changelog", reason: "not a ticket escalation: \(error)")
        }
        update(id) { $0 = restored }
    }

    public func observe(published record: ConsumerRecord) -> PartitionEffects {
        guard let (envelope, event, cause) = try? EscalationEventCoding.decode(record) else { return .none }
        var ticket = known(envelope)
        if let event { ticket.escalation.replay(event, at: envelope.at) }
        // A held request that became a request, or was refused, is held no more.
        if ticket.held?.cause == cause { ticket.held = nil }
        ticket.markHandled(cause)
        update(envelope.ticketId) { $0 = ticket }
        var resent = event.flatMap { event in
            tickets[envelope.ticketId].map { notifications(about: event, eventId: envelope.eventId, ticket: $0, at: envelope.at) }
        }
        // A refusal changed no state, but its customer notification may not have been published.
        if envelope.type == EscalationRequestRefused.type, let ticket = tickets[envelope.ticketId],
           let refusal = try? EventDocument(record.value ?? []).event(Caused<EscalationRequestRefused>.self).payload.payload {
            resent = [customerTold(refusal, eventId: envelope.eventId, ticket: ticket, at: envelope.at)]
        }
        return PartitionEffects(records: resent ?? [], changedKeys: [envelope.ticketId.rawValue])
    }

    public func handle(_ record: ConsumerRecord) throws -> PartitionEffects {
        switch record.topic {
        case Topics.escalationCommands: try handleCommand(record)
        default: try handleEvent(record)
        }
    }

    /// Requests held past their hold are refused: the ticket was never classified.
    public func fire(now: Date) -> PartitionEffects {
        var effects = PartitionEffects.none
        for (id, expiresAt) in holds where expiresAt <= now {
            guard var ticket = tickets[id], let held = ticket.held else { continue }
            ticket.held = nil
            update(id) { $0 = ticket }
            effects += refuse(held, ticket: ticket, reason: .notClassified,
                              message: "Ticket \(ticket.externalId) is not known to support, so it cannot be escalated. "
                                  + "Open a ticket first, or reply on the ticket you opened.",
                              at: held.expiresAt)
        }
        return effects
    }

    public var nextDeadline: Date? { holds.values.min() }

    public func changelogValue(forKey key: String) -> [UInt8]? {
        tickets[TicketID(rawValue: key)].flatMap { try? WireJSON.encode($0) }
    }

    public func dropped() {
        for ticket in tickets.values { metrics.adjustActive(ticket.escalation.state, by: -1) }
        tickets.removeAll()
        holds.removeAll()
    }

    // MARK: Inputs

    private func handleEvent(_ record: ConsumerRecord) throws -> PartitionEffects {
        let document: EventDocument
        do {
            document = try EventDocument(record.value ?? [])
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not an event: \(error)")
        }
        let envelope = document.envelope
        let id = envelope.ticketId
        do {
            switch envelope.type {
            case TicketClassified.type:
                let classified = try document.event(TicketClassified.self).payload
                let severity = classified.severity
                let changed = note(envelope) { ticket in
                    ticket.assignee = ticket.assignee ?? classified.assignee
                    ticket.requester = classified.requesterEmail ?? ticket.requester
                    // A person's severity, seen first, is not replaced by the classifier's.
                    if ticket.severitySetByPerson != true { ticket.severity = severity }
                    ticket.classified = true
                }
                // A request held for the classification is made now.
                if let held = tickets[id]?.held { return release(held, ticketId: id) }
                return changed
            case TicketRejected.type:
                let rejected = try document.event(TicketRejected.self).payload
                return markUnsupported(envelope, .init(reason: .rejected, message: rejected.message))
            case TicketRoutedToDocs.type:
                return markUnsupported(envelope, .init(
                    reason: .documentation,
                    message: "Ticket \(envelope.externalId) reports a documentation error, which support does not escalate: "
                        + "please use the documentation form at \(policy.documentationForm)."))
            case TicketAssigned.type:
                let assignee = try document.event(TicketAssigned.self).payload.assignee
                return note(envelope) { $0.assignee = assignee }
            case TicketSeverityChanged.type:
                let severity = try document.event(TicketSeverityChanged.self).payload.severity
                return note(envelope) { ticket in
                    ticket.severity = severity
                    ticket.severitySetByPerson = true
                }
            case TicketMessagePosted.type:
                let message = try document.event(TicketMessagePosted.self).payload
                guard message.author.role == .customer,
                      message.cc.contains(where: { EmailAddress.sameMailbox($0, policy.escalationAddress) })
                else { return .none }
                let customer = message.author.email ?? message.author.name ?? "customer"
                return request(envelope, by: EscalationActor(customer, role: .customer), via: .ccReply, at: message.sentAt,
                               seenAt: record.timestamp)
            case SLABreached.type:
                let breach = try document.event(SLABreached.self).payload
                // Each metric's own setting, in the policy of the ticket's plan.
                guard policy.forPlan(breach.plan).target(for: breach.severity).metric(breach.metric)?.escalateOnBreach == true
                else { return .none }
                return request(envelope, by: EscalationActor("sla-timer", role: .system), via: .slaBreach, at: envelope.at,
                               seenAt: record.timestamp)
            default:
                return .none
            }
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not a valid \(envelope.type) event: \(error)")
        }
    }

    /// Learns something about a ticket (creating it); its state goes to the changelog if it changed.
    private func note(_ envelope: EventEnvelope, _ change: (inout TicketEscalation) -> Void) -> PartitionEffects {
        var ticket = known(envelope)
        change(&ticket)
        return update(envelope.ticketId) { $0 = ticket } ? PartitionEffects(changedKeys: [envelope.ticketId.rawValue]) : .none
    }

    /// The ticket an event is about, new if it is the first heard of it.
    private func known(_ envelope: EventEnvelope) -> TicketEscalation {
        tickets[envelope.ticketId] ?? TicketEscalation(ticketId: envelope.ticketId, source: envelope.source, externalId: envelope.externalId)
    }

    /// A request held for the classification, until `hold` after it reached Kafka (`seenAt`), not
    /// after the requester's own clock: a mail sent an hour ago still waits its whole hold.
    private func held(by actor: EscalationActor, via channel: EscalationChannel, at: Date, seenAt: Date, cause: String) -> HeldRequest {
        HeldRequest(by: actor, via: channel, at: at, cause: cause, expiresAt: max(at, seenAt).addingTimeInterval(hold.timeInterval))
    }

    /// A request from the customer or a breach. One that finds an escalation already running is
    /// not an error: customers keep the address in CC on every reply of the thread. Only a
    /// supported ticket is escalated: a request before the classification is held, one for a
    /// rejected or documentation ticket is refused.
    private func request(
        _ envelope: EventEnvelope, by actor: EscalationActor, via channel: EscalationChannel, at: Date, seenAt: Date
    ) -> PartitionEffects {
        let cause = envelope.eventId.rawValue
        var ticket = known(envelope)
        guard !ticket.hasHandled(cause) else { return .none }
        if !ticket.isClassified {
            return gate(held(by: actor, via: channel, at: at, seenAt: seenAt, cause: cause), ticket: ticket)
        }
        guard let event = try? ticket.escalation.apply(.request(by: actor, via: channel), at: at) else {
            metrics.ignoredRequest(channel)
            return .none
        }
        ticket.markHandled(cause)
        update(envelope.ticketId) { $0 = ticket }
        return effects(of: event, ticket: ticket, cause: cause, at: at)
    }

    private func handleCommand(_ record: ConsumerRecord) throws -> PartitionEffects {
        let command: EscalationCommandRecord
        do {
            command = try WireJSON.decode(EscalationCommandRecord.self, from: record.value ?? [])
        } catch {
            throw UnprocessableRecord(code: "invalid_command", reason: "not an escalation command: \(error)")
        }
        guard record.keyString == command.ticketId.rawValue else {
            throw UnprocessableRecord(
                code: "invalid_key", reason: "a command for \(command.ticketId.rawValue) must be keyed by it, not by \(record.keyString ?? "nothing")")
        }
        guard var ticket = tickets[command.ticketId] else {
            throw UnprocessableRecord(code: "unknown_ticket", reason: "no ticket \(command.ticketId.rawValue) is known to escalation")
        }
        let cause = command.commandId
        guard !ticket.hasHandled(cause) else { return .none }
        let at = command.issuedAt
        if case .request(let by, let via) = command.command, !ticket.isClassified {
            return gate(held(by: by, via: via, at: at, seenAt: at, cause: cause), ticket: ticket)
        }
        let outcome: Result<Escalation.Event, EscalationRefusal>
        do throws(EscalationRefusal) {
            outcome = .success(try ticket.escalation.apply(command.command, at: at))
        } catch {
            outcome = .failure(error)
        }
        ticket.markHandled(cause)
        update(command.ticketId) { $0 = ticket }
        switch outcome {
        case .success(let event):
            return effects(of: event, ticket: ticket, cause: cause, at: at)
        case .failure(let refusal):
            metrics.refusedCommand(command.command.name)
            var effects = PartitionEffects(changedKeys: [ticket.ticketId.rawValue])
            effects.records.append(EscalationEventCoding.record(
                EscalationCommandRefused(command: command.command.name, by: command.command.actor.name, reason: refusal.description),
                ticket: ticket, cause: cause, at: at))
            return effects
        }
    }

    // MARK: Requests for tickets not (yet) supported

    typealias HeldRequest = TicketEscalation.HeldRequest

    /// A request for a ticket not classified: refused when the ticket is known to get no
    /// support, held otherwise (the first one; later ones while it is held are ignored).
    private func gate(_ request: HeldRequest, ticket original: TicketEscalation) -> PartitionEffects {
        var ticket = original
        ticket.markHandled(request.cause)
        if let unsupported = ticket.unsupported {
            update(ticket.ticketId) { $0 = ticket }
            return refuse(request, ticket: ticket, reason: unsupported.reason, message: unsupported.message, at: request.at)
        }
        if ticket.held == nil {
            ticket.held = request
        } else {
            metrics.ignoredRequest(request.via)
        }
        update(ticket.ticketId) { $0 = ticket }
        return PartitionEffects(changedKeys: [ticket.ticketId.rawValue])
    }

    /// The classification arrived: the held request is made, as of when it was asked.
    private func release(_ held: HeldRequest, ticketId: TicketID) -> PartitionEffects {
        guard var ticket = tickets[ticketId] else { return .none }
        ticket.held = nil
        let outcome = try? ticket.escalation.apply(.request(by: held.by, via: held.via), at: held.at)
        update(ticketId) { $0 = ticket }
        guard let event = outcome else {
            metrics.ignoredRequest(held.via)
            return PartitionEffects(changedKeys: [ticketId.rawValue])
        }
        return effects(of: event, ticket: ticket, cause: held.cause, at: held.at)
    }

    /// Intake rejected the ticket, or the classifier sent it to documentation.
    private func markUnsupported(_ envelope: EventEnvelope, _ unsupported: TicketEscalation.Unsupported) -> PartitionEffects {
        var ticket = known(envelope)
        guard ticket.unsupported != unsupported else { return .none }
        ticket.unsupported = unsupported
        let held = ticket.held
        ticket.held = nil
        update(envelope.ticketId) { $0 = ticket }
        guard let held else { return PartitionEffects(changedKeys: [envelope.ticketId.rawValue]) }
        return refuse(held, ticket: ticket, reason: unsupported.reason, message: unsupported.message, at: max(held.at, envelope.at))
    }

    /// `escalation.requestRefused`, and the customer told why.
    private func refuse(
        _ request: HeldRequest, ticket: TicketEscalation, reason: EscalationRequestRefused.Reason, message: String, at: Date
    ) -> PartitionEffects {
        metrics.refusedCommand("request")
        let refusal = EscalationRequestRefused(by: request.by.name, via: request.via, reason: reason, message: message)
        let published = EscalationEventCoding.publishedRecord(refusal, ticket: ticket, cause: request.cause, at: at)
        metrics.emitted(EscalationRequestRefused.type)
        return PartitionEffects(records: [published.record, customerTold(refusal, eventId: published.eventId, ticket: ticket, at: at)],
                                changedKeys: [ticket.ticketId.rawValue])
    }

    /// The customer notification of a refused request; the same record whether it is made with
    /// the refusal or again after a restart that found the refusal published.
    private func customerTold(_ refusal: EscalationRequestRefused, eventId: EventID, ticket: TicketEscalation, at: Date) -> OutgoingRecord {
        let customer = refusal.via == .ccReply && refusal.by.contains("@") ? refusal.by : ticket.requester
        let notification = HelpdeskModel.Notification(
            audience: .customer, kind: .escalationRefused, recipient: customer, severity: ticket.severity,
            subject: "Your escalation request for ticket \(ticket.externalId)", text: refusal.message, causedBy: eventId)
        return .notification(notification, ticketId: ticket.ticketId, source: ticket.source, externalId: ticket.externalId,
                             at: at, producer: Self.service, byRecipient: true)
    }

    // MARK: -

    /// Changes a ticket (creating or deleting it), keeping the active-escalation gauge in step.
    /// Returns whether it changed.
    @discardableResult
    private func update(_ id: TicketID, _ change: (inout TicketEscalation?) -> Void) -> Bool {
        let original = tickets[id]
        var ticket = original
        change(&ticket)
        tickets[id] = ticket
        holds[id] = ticket?.held?.expiresAt
        let before = original?.escalation.state
        let after = ticket?.escalation.state
        if before != after {
            if let before { metrics.adjustActive(before, by: -1) }
            if let after { metrics.adjustActive(after, by: 1) }
        }
        return ticket != original
    }

    private func effects(of event: Escalation.Event, ticket: TicketEscalation, cause: String, at: Date) -> PartitionEffects {
        let published = EscalationEventCoding.record(event, ticket: ticket, cause: cause, at: at)
        metrics.emitted(published.type)
        return PartitionEffects(records: [published.record] + notifications(about: event, eventId: published.eventId, ticket: ticket, at: at),
                                changedKeys: [ticket.ticketId.rawValue])
    }

    /// Who an escalation event tells, as `notifications` records; ids derive from the event's.
    private func notifications(about event: Escalation.Event, eventId: EventID, ticket: TicketEscalation, at: Date) -> [OutgoingRecord] {
        var records = [OutgoingRecord]()
        let name = "\(ticket.externalId) (\(ticket.source))"
        func notify(
            _ audience: HelpdeskModel.Notification.Audience, _ kind: HelpdeskModel.Notification.Kind, recipient: String? = nil,
            subject: String, text: String
        ) {
            let notification = HelpdeskModel.Notification(
                audience: audience, kind: kind, recipient: recipient, severity: ticket.severity, subject: subject, text: text,
                causedBy: eventId)
            records.append(.notification(notification, ticketId: ticket.ticketId, source: ticket.source,
                                         externalId: ticket.externalId, at: at, producer: Self.service, byRecipient: true))
        }
        switch event {
        case .requested(let requested):
            // By escalating, the issue is brought to management's attention: at the request.
            notify(.supportLead, .escalationRequested, subject: "Escalation requested: \(ticket.externalId)",
                   text: "\(requested.by) asked to escalate ticket \(name) (via \(requested.via.rawValue)); assign an escalation engineer.")
            notify(.management, .escalationRequested, subject: "Escalation requested: \(ticket.externalId)",
                   text: "\(requested.by) asked to escalate ticket \(name) (via \(requested.via.rawValue)); "
                       + "the support lead assigns an escalation engineer.")
        case .evaluating(let evaluating):
            notify(.escalationEngineer, .escalationAssigned, recipient: evaluating.engineer, subject: "Escalation assigned to you: \(ticket.externalId)",
                   text: "\(evaluating.by) assigned you to evaluate the escalation of ticket \(name).")
        case .escalated(let escalated):
            notify(.management, .escalated, subject: "Ticket escalated: \(ticket.externalId)",
                   text: "\(escalated.by) escalated ticket \(name)"
                       + (ticket.escalation.engineer.map { "; escalation engineer: \($0)." } ?? "."))
        case .deEscalated(let deEscalated):
            notify(.management, .deEscalated, subject: "Ticket de-escalated: \(ticket.externalId)",
                   text: "\(deEscalated.by) de-escalated ticket \(name); the action plan, troubleshooting and the parties' agreement are recorded.")
        case .conditionRecorded, .deEscalationRefused:
            break
        }
        return records
    }
}
