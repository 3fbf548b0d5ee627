import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The first-response clocks of the tickets in one partition, and their deadlines.
///
/// Inputs: `ticket.classified` starts a clock; from `tickets.activity`, the first public agent
/// message, severity changes and resolution. Outputs: `sla.*` events (ids derived from the
/// ticket and the input or deadline that caused them, `at` from the input's own time or the
/// deadline, so a redo is byte-identical) and `notifications` for warnings and breaches.
public final class SLATimerPartition: PartitionState {
    public static let service = "sla-timer"
    /// Replies reach `tickets.activity` through intake: deadlines also wait for what intake has
    /// taken from `tickets.inbound` and not yet published. The defaults of `SLA_UPSTREAM_*`.
    public static let upstream = Upstream(topic: Topics.inbound, group: ConsumerGroups.intake)
    /// Every topic the sla-timer reads or writes, the upstream's included.
    public static let topics = [Topics.classified, Topics.activity, Topics.slaEvents, Topics.slaTimerChangelog,
                                Topics.notifications, upstream.topic]

    let partition: Int32
    let policy: SLAPolicy
    let metrics: SLATimerMetrics
    private(set) var clocks: [TicketID: FirstResponseClock] = [:]
    private var deadlines = DeadlineQueue()

    public init(partition: Int32, policy: SLAPolicy, metrics: SLATimerMetrics) {
        self.partition = partition
        self.policy = policy
        self.metrics = metrics
    }

    public func clock(_ ticket: TicketID) -> FirstResponseClock? { clocks[ticket] }

    // MARK: PartitionState

    public func restore(_ record: ConsumerRecord) throws {
        let (ticket, value) = try record.changelogEntry()
        let restored = try value.map { try FirstResponseClock(changelogValue: $0) }
        update(ticket) { $0 = restored }
    }

    public func observe(published record: ConsumerRecord) -> PartitionEffects {
        let clocks = self.clocks
        guard let (envelope, output) = try? Self.decodeOutput(record, severityOf: { clocks[$0]?.severity }),
              clocks[envelope.ticketId] != nil || isStart(output) else {
            return .none
        }
        update(envelope.ticketId, source: envelope.source, externalId: envelope.externalId) { clock in
            clock?.observe(output, policy: policy)
        }
        let resent = self.clocks[envelope.ticketId].map { notifications(for: output, eventId: envelope.eventId, at: envelope.at, clock: $0) }
        return PartitionEffects(records: resent ?? [], changedKeys: [envelope.ticketId.rawValue])
    }

    public func handle(_ record: ConsumerRecord) throws -> PartitionEffects {
        let document: EventDocument
        do {
            document = try EventDocument(record.value ?? [])
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not an event: \(error)")
        }
        let envelope = document.envelope
        let input: FirstResponseClock.Input?
        // Who the ticket's notifications go to, learnt beside the clock's own inputs.
        var people: (assignee: String?, requester: String?, reassigned: Bool)?
        do {
            switch envelope.type {
            case TicketClassified.type:
                let event = try document.event(TicketClassified.self)
                input = .classified(severity: event.payload.severity, openedAt: event.payload.openedAt, eventId: event.eventId)
                people = (event.payload.assignee, event.payload.requesterEmail, false)
            case TicketAssigned.type:
                let assigned = try document.event(TicketAssigned.self).payload
                people = (assigned.assignee, nil, true)
                input = nil
            case TicketMessagePosted.type:
                let message = try document.event(TicketMessagePosted.self).payload
                guard message.author.role == .agent, message.isPublic else { return PartitionEffects(eventTime: envelope.at) }
                input = .agentReplied(at: message.sentAt)
            case TicketSeverityChanged.type:
                let event = try document.event(TicketSeverityChanged.self)
                input = .severityChanged(to: event.payload.severity, at: event.payload.changedAt, eventId: event.eventId)
            case TicketStatusChanged.type:
                let change = try document.event(TicketStatusChanged.self).payload
                guard change.status.isResolved else { return PartitionEffects(eventTime: envelope.at) }
                input = .resolved(at: change.changedAt, status: change.status)
            default:
                return PartitionEffects(eventTime: envelope.at)
            }
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not a valid \(envelope.type) event: \(error)")
        }
        var outputs = [FirstResponseClock.Output]()
        let changed = update(envelope.ticketId, source: envelope.source, externalId: envelope.externalId) { clock in
            if let people {
                // An assignment on the activity wins over the one the ticket was opened with.
                clock!.assignee = people.reassigned ? people.assignee : (clock!.assignee ?? people.assignee)
                clock!.requester = people.requester ?? clock!.requester
            }
            if let input { outputs = clock!.apply(input, policy: policy) }
        }
        // A change without an event (a reply after the breach, activity before the
        // classification) is state all the same: it goes to the changelog.
        var effects = effects(of: outputs, ticket: envelope.ticketId, inputAt: envelope.at)
        if changed, effects.changedKeys.isEmpty { effects.changedKeys = [envelope.ticketId.rawValue] }
        effects.eventTime = envelope.at
        return effects
    }

    /// `now` is as far as the partition's gates let timers fire (the late-input hold among them).
    public func fire(now: Date) -> PartitionEffects {
        var effects = PartitionEffects.none
        for (ticket, due) in deadlines.popDue(now) {
            // Entries left behind by a moved deadline or a finished clock are skipped.
            guard let clock = clocks[ticket], clock.nextDeadline == due else { continue }
            metrics.fired(lateBy: now.timeIntervalSince(due))
            var outputs = [FirstResponseClock.Output]()
            update(ticket) { outputs = $0!.apply(.tick(now: now), policy: policy) }
            effects += self.effects(of: outputs, ticket: ticket, inputAt: due)
        }
        return effects
    }

    public var nextDeadline: Date? { deadlines.earliest }

    public func changelogValue(forKey key: String) -> [UInt8]? {
        clocks[TicketID(rawValue: key)]?.changelogValue
    }

    public func dropped() {
        for clock in clocks.values where clock.phase == .running {
            if let severity = clock.severity { metrics.adjustOpen(severity, by: -1) }
        }
        clocks.removeAll()
        deadlines.removeAll()
    }

    // MARK: -

    private func isStart(_ output: FirstResponseClock.Output) -> Bool {
        if case .started = output { true } else { false }
    }

    /// Changes a clock (creating it if needed), keeping the open-clock gauge and the deadline
    /// queue in step. Returns whether the clock changed.
    @discardableResult
    private func update(
        _ ticket: TicketID, source: String? = nil, externalId: String? = nil, _ change: (inout FirstResponseClock?) -> Void
    ) -> Bool {
        let original = clocks[ticket]
        var clock = original
        let before = clock.flatMap(Self.openSeverity)
        let deadlineBefore = clock?.nextDeadline
        if clock == nil, let source, let externalId {
            clock = FirstResponseClock(ticketId: ticket, source: source, externalId: externalId)
        }
        change(&clock)
        clocks[ticket] = clock
        let after = clock.flatMap(Self.openSeverity)
        if before != after {
            if let before { metrics.adjustOpen(before, by: -1) }
            if let after { metrics.adjustOpen(after, by: 1) }
        }
        if let deadline = clock?.nextDeadline, deadline != deadlineBefore { deadlines.insert(deadline, for: ticket) }
        return clock != original
    }

    private static func openSeverity(_ clock: FirstResponseClock) -> Severity? {
        clock.phase == .running ? clock.severity : nil
    }

    private func effects(of outputs: [FirstResponseClock.Output], ticket: TicketID, inputAt: Date) -> PartitionEffects {
        guard !outputs.isEmpty, let clock = clocks[ticket] else { return .none }
        var records = [OutgoingRecord]()
        func emit<P: EventPayload>(_ payload: P, cause: String, at: Date) -> Event<P> {
            let event = Event(emittedBy: Self.service, causedBy: cause, ticketId: ticket, source: clock.source,
                              externalId: clock.externalId, at: at, payload: payload)
            records.append(OutgoingRecord(event: event, topic: Topics.slaEvents, producer: Self.service))
            return event
        }
        // A breach happened at its deadline, whichever input or timer revealed it; only a
        // re-prioritization that moves the deadline into the past breaches at the change (the
        // breach right behind its recalculation).
        var changedAt: Date?
        for output in outputs {
            defer { if case .recalculated(_, _, let at) = output { changedAt = at } else { changedAt = nil } }
            switch output {
            case .started(let payload, let cause):
                _ = emit(payload, cause: cause, at: inputAt)
            case .warning(let payload, let cause, let warnAt, let severity):
                let event = emit(payload, cause: cause, at: warnAt)
                metrics.warned(severity)
                records += notifications(for: output, eventId: event.eventId, at: event.at, clock: clock)
            case .breached(let payload, let cause):
                let event = emit(payload, cause: cause, at: changedAt.map { max(payload.dueAt, $0) } ?? payload.dueAt)
                metrics.breached(payload.severity)
                records += notifications(for: output, eventId: event.eventId, at: event.at, clock: clock)
            case .met(let payload, let cause):
                _ = emit(payload, cause: cause, at: payload.respondedAt)
                if let severity = clock.severity { metrics.metDeadline(severity) }
            case .recalculated(let payload, let cause, let at):
                _ = emit(payload, cause: cause, at: at)
            case .stopped(let payload, let cause):
                _ = emit(payload, cause: cause, at: clock.resolvedAt ?? inputAt)
                metrics.stoppedClock()
            case .respondedAfterBreach(let payload, let cause):
                _ = emit(payload, cause: cause, at: payload.respondedAt)
            case .resolvedAfterBreach(let payload, let cause):
                _ = emit(payload, cause: cause, at: payload.resolvedAt)
            }
        }
        return PartitionEffects(records: records, changedKeys: [ticket.rawValue])
    }

    /// Who a warning or a breach tells, as `notifications` records; ids derive from the event's.
    private func notifications(
        for output: FirstResponseClock.Output, eventId: EventID, at: Date, clock: FirstResponseClock
    ) -> [OutgoingRecord] {
        let severity: Severity, audiences: [HelpdeskModel.Notification.Audience], subject: String, text: String
        let kind: HelpdeskModel.Notification.Kind
        switch output {
        case .warning(let payload, _, _, let firedUnder):
            severity = firedUnder
            kind = .slaWarning
            audiences = policy.target(for: severity).notifyOnWarning
            subject = "First response due soon: \(clock.externalId)"
            text = "\(severity.name.capitalized) ticket \(clock.externalId) (\(clock.source)) needs a first response by "
                + "\(ISO8601.format(payload.dueAt)); \(payload.remainingSeconds / 60) business minutes remain."
        case .breached(let payload, _):
            severity = payload.severity
            kind = .slaBreached
            audiences = policy.target(for: severity).notifyOnBreach
            subject = "First-response deadline breached: \(clock.externalId)"
            text = "\(severity.name.capitalized) ticket \(clock.externalId) (\(clock.source)) had no first "
                + "response by \(ISO8601.format(payload.dueAt))."
        default:
            return []
        }
        return audiences.map { audience in
            let recipient = audience == .assignee ? clock.assignee : audience == .customer ? clock.requester : nil
            let notification = HelpdeskModel.Notification(
                audience: audience, kind: kind, recipient: recipient, severity: severity, subject: subject, text: text,
                causedBy: eventId)
            return .notification(notification, ticketId: clock.ticketId, source: clock.source, externalId: clock.externalId,
                                 at: at, producer: Self.service)
        }
    }

    /// An event of ours from `sla.events`, as the clock's output it was.
    /// `severityOf` gives a warning the severity it was fired under (the clock's, as restored).
    static func decodeOutput(
        _ record: ConsumerRecord, severityOf: (TicketID) -> Severity? = { _ in nil }
    ) throws -> (EventEnvelope, FirstResponseClock.Output) {
        let document = try EventDocument(record.value ?? [])
        let envelope = document.envelope
        let output: FirstResponseClock.Output
        switch envelope.type {
        case SLAStarted.type: output = .started(try document.event(SLAStarted.self).payload, cause: "")
        case SLAWarning.type:
            output = .warning(try document.event(SLAWarning.self).payload, cause: "", at: envelope.at,
                              severity: severityOf(envelope.ticketId) ?? .minor)
        case SLABreached.type: output = .breached(try document.event(SLABreached.self).payload, cause: "")
        case SLAMet.type: output = .met(try document.event(SLAMet.self).payload, cause: "")
        case SLARecalculated.type:
            output = .recalculated(try document.event(SLARecalculated.self).payload, cause: "", at: envelope.at)
        case SLAStopped.type: output = .stopped(try document.event(SLAStopped.self).payload, cause: "")
        case SLARespondedAfterBreach.type:
            output = .respondedAfterBreach(try document.event(SLARespondedAfterBreach.self).payload, cause: "")
        case SLAResolvedAfterBreach.type:
            output = .resolvedAfterBreach(try document.event(SLAResolvedAfterBreach.self).payload, cause: "")
        default: throw UnprocessableRecord(code: "unknown_type", reason: "\(envelope.type) is not an sla event")
        }
        return (envelope, output)
    }
}
