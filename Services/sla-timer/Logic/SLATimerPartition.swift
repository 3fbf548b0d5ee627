import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The SLA clocks of the tickets in one partition, and their deadlines.
///
/// Inputs: `ticket.classified` starts a ticket's clocks under its plan's policy; from
/// `tickets.activity`, public messages, severity and status changes. The first-response clock
/// (`FirstResponseClock`) runs for every ticket; the further metrics (`TicketMetrics`) only where
/// the policy sets any, kept apart so that a policy without them costs no memory. Outputs: `sla.*` events (ids derived from the
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
    /// Whether any plan's policy sets a metric beyond the first response.
    let tracksFurtherMetrics: Bool
    private(set) var clocks: [TicketID: FirstResponseClock] = [:]
    private(set) var further: [TicketID: TicketMetrics] = [:]
    private var deadlines = DeadlineQueue()

    public init(partition: Int32, policy: SLAPolicy, metrics: SLATimerMetrics) {
        self.partition = partition
        self.policy = policy
        self.metrics = metrics
        tracksFurtherMetrics = ([nil] + policy.plans.keys.map { Optional($0) }).contains { policy.hasFurtherMetrics(plan: $0) }
    }

    public func clock(_ ticket: TicketID) -> FirstResponseClock? { clocks[ticket] }
    public func furtherMetrics(_ ticket: TicketID) -> TicketMetrics? { further[ticket] }

    /// The policy of the ticket's plan.
    private func policy(_ clock: FirstResponseClock?) -> SLAPolicy { policy.forPlan(clock?.plan) }

    // MARK: PartitionState

    public func restore(_ record: ConsumerRecord) throws {
        let (ticket, value) = try record.changelogEntry()
        let restored = try value.map { try TicketSLAState(changelogValue: $0) }
        update(ticket) { clock, metrics in
            clock = restored?.firstResponse
            metrics = restored?.metrics
        }
    }

    public func observe(published record: ConsumerRecord) -> PartitionEffects {
        let clocks = self.clocks
        guard let (envelope, published) = try? Self.decodeOutput(record, severityOf: { clocks[$0]?.severity }) else { return .none }
        switch published {
        case .firstResponse(let output):
            guard clocks[envelope.ticketId] != nil || isStart(output) else { return .none }
            update(envelope.ticketId, source: envelope.source, externalId: envelope.externalId) { clock, _ in
                if case .started(let event, _) = output, clock?.plan == nil, let plan = event.plan, policy.plans[plan] != nil {
                    clock?.plan = plan
                }
                let planPolicy = policy(clock)
                clock?.observe(output, policy: planPolicy)
            }
            let resent = self.clocks[envelope.ticketId].map { notifications(for: output, eventId: envelope.eventId, at: envelope.at, clock: $0) }
            return PartitionEffects(records: resent ?? [], changedKeys: [envelope.ticketId.rawValue])
        case .further(let output):
            guard tracksFurtherMetrics else { return .none }
            update(envelope.ticketId, source: envelope.source, externalId: envelope.externalId) { clock, metrics in
                if metrics == nil { metrics = TicketMetrics() }
                metrics!.observe(output)
            }
            let resent = self.clocks[envelope.ticketId].map {
                notifications(for: output, eventId: envelope.eventId, at: envelope.at, clock: $0)
            }
            return PartitionEffects(records: resent ?? [], changedKeys: [envelope.ticketId.rawValue])
        }
    }

    public func handle(_ record: ConsumerRecord) throws -> PartitionEffects {
        let document: EventDocument
        do {
            document = try EventDocument(record.value ?? [])
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not an event: \(error)")
        }
        let envelope = document.envelope
        var input: FirstResponseClock.Input?
        // The same input for the further metrics, where the policy sets any.
        var further: TicketMetrics.Input?
        var plan: String?
        // Who the ticket's notifications go to, learnt beside the clock's own inputs.
        var people: (assignee: String?, requester: String?, reassigned: Bool)?
        do {
            switch envelope.type {
            case TicketClassified.type:
                let event = try document.event(TicketClassified.self)
                input = .classified(severity: event.payload.severity, openedAt: event.payload.openedAt, eventId: event.eventId)
                // Only a plan the policy names counts: any other runs (and is reported as) the default.
                plan = event.payload.plan.flatMap { policy.plans[$0] == nil ? nil : $0 }
                further = .classified(severity: event.payload.severity, openedAt: event.payload.openedAt, plan: plan)
                people = (event.payload.assignee, event.payload.requesterEmail, false)
            case TicketAssigned.type:
                let assigned = try document.event(TicketAssigned.self).payload
                people = (assigned.assignee, nil, true)
            case TicketMessagePosted.type:
                let message = try document.event(TicketMessagePosted.self).payload
                guard message.isPublic else { return PartitionEffects(eventTime: envelope.at) }
                switch message.author.role {
                case .agent:
                    input = .agentReplied(at: message.sentAt)
                    further = .activity(.agentMessage(at: message.sentAt), position: record.offset)
                case .customer:
                    further = .activity(.customerMessage(at: message.sentAt), position: record.offset)
                default:
                    return PartitionEffects(eventTime: envelope.at)
                }
            case TicketSeverityChanged.type:
                let event = try document.event(TicketSeverityChanged.self)
                input = .severityChanged(to: event.payload.severity, at: event.payload.changedAt, eventId: event.eventId)
                further = .activity(.severityChanged(event.payload.severity, at: event.payload.changedAt), position: record.offset)
            case TicketStatusChanged.type:
                let change = try document.event(TicketStatusChanged.self).payload
                if change.status.isResolved { input = .resolved(at: change.changedAt, status: change.status) }
                further = .activity(.statusChanged(change.status, at: change.changedAt), position: record.offset)
            default:
                return PartitionEffects(eventTime: envelope.at)
            }
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not a valid \(envelope.type) event: \(error)")
        }
        if !tracksFurtherMetrics { further = nil }
        guard input != nil || further != nil || people != nil else { return PartitionEffects(eventTime: envelope.at) }
        var outputs = [FirstResponseClock.Output]()
        var furtherOutputs = [MetricOutput]()
        let changed = update(envelope.ticketId, source: envelope.source, externalId: envelope.externalId) { clock, metrics in
            if let people {
                // An assignment on the activity wins over the one the ticket was opened with.
                clock!.assignee = people.reassigned ? people.assignee : (clock!.assignee ?? people.assignee)
                clock!.requester = people.requester ?? clock!.requester
            }
            if let plan, clock!.plan == nil, clock!.phase == .waiting { clock!.plan = plan }
            let planPolicy = policy(clock)
            if let input { outputs = clock!.apply(input, policy: planPolicy) }
            if let further {
                let classification = if case .classified = further { true } else { false }
                // Kept from the classification on, or for activity that comes before it; a ticket
                // whose clock started without them (before the policy set any) gets none.
                if metrics == nil, classification || clock!.phase == .waiting { metrics = TicketMetrics() }
                let metricsPolicy = policy.forPlan(metrics?.plan ?? plan ?? clock!.plan)
                furtherOutputs = metrics?.apply(further, policy: metricsPolicy) ?? []
                // A plan without further metrics keeps no state for them.
                if classification, !policy.hasFurtherMetrics(plan: plan) { metrics = nil }
            }
        }
        // A change without an event (a reply after the breach, activity before the
        // classification) is state all the same: it goes to the changelog.
        var effects = effects(of: outputs, ticket: envelope.ticketId, inputAt: envelope.at)
        effects += self.effects(of: furtherOutputs, ticket: envelope.ticketId)
        if changed, effects.changedKeys.isEmpty { effects.changedKeys = [envelope.ticketId.rawValue] }
        effects.eventTime = envelope.at
        return effects
    }

    /// `now` is as far as the partition's gates let timers fire (the late-input hold among them).
    public func fire(now: Date) -> PartitionEffects {
        var effects = PartitionEffects.none
        for (ticket, due) in deadlines.popDue(now) {
            // Entries left behind by a moved deadline or a finished clock are skipped.
            guard let clock = clocks[ticket], Self.nextDeadline(clock, further[ticket]) == due else { continue }
            metrics.fired(lateBy: now.timeIntervalSince(due))
            var outputs = [FirstResponseClock.Output]()
            var furtherOutputs = [MetricOutput]()
            update(ticket) { clock, metrics in
                let planPolicy = policy(clock)
                outputs = clock!.apply(.tick(now: now), policy: planPolicy)
                let metricsPolicy = policy.forPlan(metrics?.plan ?? clock?.plan)
                furtherOutputs = metrics?.apply(.tick(now: now), policy: metricsPolicy) ?? []
            }
            effects += self.effects(of: outputs, ticket: ticket, inputAt: due)
            effects += self.effects(of: furtherOutputs, ticket: ticket)
        }
        return effects
    }

    public var nextDeadline: Date? { deadlines.earliest }

    public func changelogValue(forKey key: String) -> [UInt8]? {
        let ticket = TicketID(rawValue: key)
        guard let clock = clocks[ticket] else { return nil }
        guard let metrics = further[ticket] else { return clock.changelogValue }
        return TicketSLAState(firstResponse: clock, metrics: metrics).changelogValue
    }

    public func dropped() {
        for clock in clocks.values where clock.phase == .running {
            if let severity = clock.severity { metrics.adjustOpen(severity, by: -1) }
        }
        for ticket in further.values {
            for clock in ticket.clocks where clock.isOpen { metrics.adjustOpen(clock.metric, by: -1) }
        }
        clocks.removeAll()
        further.removeAll()
        deadlines.removeAll()
    }

    // MARK: -

    private func isStart(_ output: FirstResponseClock.Output) -> Bool {
        if case .started = output { true } else { false }
    }

    /// Changes a ticket's clocks (creating the first-response clock if needed), keeping the
    /// open-clock gauges and the deadline queue in step. Returns whether anything changed.
    @discardableResult
    private func update(
        _ ticket: TicketID, source: String? = nil, externalId: String? = nil,
        _ change: (inout FirstResponseClock?, inout TicketMetrics?) -> Void
    ) -> Bool {
        let original = clocks[ticket]
        let originalMetrics = further[ticket]
        var clock = original
        var metrics = originalMetrics
        let before = clock.flatMap(Self.openSeverity)
        let deadlineBefore = clock.flatMap { Self.nextDeadline($0, metrics) }
        if clock == nil, let source, let externalId {
            clock = FirstResponseClock(ticketId: ticket, source: source, externalId: externalId)
        }
        change(&clock, &metrics)
        clocks[ticket] = clock
        further[ticket] = clock == nil ? nil : metrics
        let after = clock.flatMap(Self.openSeverity)
        if before != after {
            if let before { self.metrics.adjustOpen(before, by: -1) }
            if let after { self.metrics.adjustOpen(after, by: 1) }
        }
        if metrics != originalMetrics {
            for metric in [SLAMetric.resolution, .nextReply, .periodicUpdate] {
                let was = originalMetrics?.clocks.contains { $0.metric == metric && $0.isOpen } == true
                let now = metrics?.clocks.contains { $0.metric == metric && $0.isOpen } == true
                if was != now { self.metrics.adjustOpen(metric, by: now ? 1 : -1) }
            }
        }
        if let deadline = clock.flatMap({ Self.nextDeadline($0, metrics) }), deadline != deadlineBefore {
            deadlines.insert(deadline, for: ticket)
        }
        return clock != original || metrics != originalMetrics
    }

    /// The earliest instant at which time alone changes one of a ticket's clocks.
    private static func nextDeadline(_ clock: FirstResponseClock, _ metrics: TicketMetrics?) -> Date? {
        switch (clock.nextDeadline, metrics?.nextDeadline) {
        case (let a?, let b?): min(a, b)
        case (let a, let b): a ?? b
        }
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

    private func effects(of outputs: [MetricOutput], ticket: TicketID) -> PartitionEffects {
        guard !outputs.isEmpty, let clock = clocks[ticket] else { return .none }
        var records = [OutgoingRecord]()
        for output in outputs {
            let event: any EventPayload
            let outcome: String
            switch output {
            case .started(let payload): (event, outcome) = (payload, "started")
            case .warning(let payload, _, _): (event, outcome) = (payload, "warning")
            case .breached(let payload, _): (event, outcome) = (payload, "breached")
            case .met(let payload): (event, outcome) = (payload, "met")
            case .recalculated(let payload, _): (event, outcome) = (payload, "recalculated")
            case .stopped(let payload, _): (event, outcome) = (payload, "stopped")
            case .paused(let payload, _): (event, outcome) = (payload, "paused")
            case .resumed(let payload, _): (event, outcome) = (payload, "resumed")
            }
            metrics.counted(output.metric, outcome)
            let eventId = publish(event, cause: output.cause, at: output.at, clock: clock, into: &records)
            records += notifications(for: output, eventId: eventId, at: output.at, clock: clock)
        }
        return PartitionEffects(records: records, changedKeys: [ticket.rawValue])
    }

    private func publish<P: EventPayload>(
        _ payload: P, cause: String, at: Date, clock: FirstResponseClock, into records: inout [OutgoingRecord]
    ) -> EventID {
        let event = Event(emittedBy: Self.service, causedBy: cause, ticketId: clock.ticketId, source: clock.source,
                          externalId: clock.externalId, at: at, payload: payload)
        records.append(OutgoingRecord(event: event, topic: Topics.slaEvents, producer: Self.service))
        return event.eventId
    }

    /// Who a further metric's warning or breach tells (the metric's `notify` in the policy).
    private func notifications(for output: MetricOutput, eventId: EventID, at: Date, clock: FirstResponseClock) -> [OutgoingRecord] {
        let planPolicy = policy(clock)
        switch output {
        case .warning(let payload, _, let firedUnder):
            let audiences = planPolicy.target(for: firedUnder).metric(output.metric)?.notifyOnWarning ?? []
            return notices(.slaWarning, output.metric, severity: firedUnder, dueAt: payload.dueAt, remaining: payload.remainingSeconds,
                           to: audiences, eventId: eventId, at: at, clock: clock)
        case .breached(let payload, _):
            let audiences = planPolicy.target(for: payload.severity).metric(output.metric)?.notifyOnBreach ?? []
            return notices(.slaBreached, output.metric, severity: payload.severity, dueAt: payload.dueAt, remaining: nil,
                           to: audiences, eventId: eventId, at: at, clock: clock)
        default:
            return []
        }
    }

    /// Who a warning or a breach tells, as `notifications` records; ids derive from the event's.
    private func notifications(
        for output: FirstResponseClock.Output, eventId: EventID, at: Date, clock: FirstResponseClock
    ) -> [OutgoingRecord] {
        switch output {
        case .warning(let payload, _, _, let firedUnder):
            return notices(.slaWarning, .firstResponse, severity: firedUnder, dueAt: payload.dueAt, remaining: payload.remainingSeconds,
                           to: policy(clock).target(for: firedUnder).notifyOnWarning, eventId: eventId, at: at, clock: clock)
        case .breached(let payload, _):
            return notices(.slaBreached, .firstResponse, severity: payload.severity, dueAt: payload.dueAt, remaining: nil,
                           to: policy(clock).target(for: payload.severity).notifyOnBreach, eventId: eventId, at: at, clock: clock)
        default:
            return []
        }
    }

    /// One `notifications` record per audience for a warning (`remaining` business seconds
    /// left) or a breach of a metric's deadline.
    private func notices(
        _ kind: HelpdeskModel.Notification.Kind, _ metric: SLAMetric, severity: Severity, dueAt: Date, remaining: Int?,
        to audiences: [HelpdeskModel.Notification.Audience], eventId: EventID, at: Date, clock: FirstResponseClock
    ) -> [OutgoingRecord] {
        let (name, deadline, what): (String, String, String) = switch metric {
        case .firstResponse: ("First response", "First-response", "a first response")
        case .nextReply: ("Reply", "Next-reply", "a reply to the customer's last message")
        case .periodicUpdate: ("Update", "Periodic-update", "an update to the customer")
        case .resolution: ("Resolution", "Resolution", "a resolution")
        }
        let ticket = "\(severity.name.capitalized) ticket \(clock.externalId) (\(clock.source))"
        let subject: String, text: String
        if let remaining {
            subject = "\(name) due soon: \(clock.externalId)"
            text = "\(ticket) needs \(what) by \(ISO8601.format(dueAt)); \(remaining / 60) business minutes remain."
        } else {
            subject = "\(deadline) deadline breached: \(clock.externalId)"
            text = "\(ticket) had no \(what.split(separator: " ", maxSplits: 1).last ?? "") by \(ISO8601.format(dueAt))."
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

    /// An event of ours from `sla.events`, as the output it was: of a first-response clock, or
    /// of a further metric's.
    enum Published {
        case firstResponse(FirstResponseClock.Output)
        case further(MetricOutput)
    }

    /// An event of ours from `sla.events`, as the clock's output it was.
    /// `severityOf` gives a warning the severity it was fired under (the clock's, as restored).
    static func decodeOutput(
        _ record: ConsumerRecord, severityOf: (TicketID) -> Severity? = { _ in nil }
    ) throws -> (EventEnvelope, Published) {
        let document = try EventDocument(record.value ?? [])
        let envelope = document.envelope
        if let further = try decodeFurther(document, severityOf: severityOf) { return (envelope, .further(further)) }
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
        return (envelope, .firstResponse(output))
    }

    /// A further metric's event (one whose `metric` is not `firstResponse`), or nil.
    private static func decodeFurther(_ document: EventDocument, severityOf: (TicketID) -> Severity?) throws -> MetricOutput? {
        let envelope = document.envelope
        switch envelope.type {
        case SLAPaused.type: return .paused(try document.event(SLAPaused.self).payload, at: envelope.at)
        case SLAResumed.type: return .resumed(try document.event(SLAResumed.self).payload, at: envelope.at)
        case SLAStarted.type:
            let payload = try document.event(SLAStarted.self).payload
            return payload.metric == .firstResponse ? nil : .started(payload)
        case SLAWarning.type:
            let payload = try document.event(SLAWarning.self).payload
            return payload.metric == .firstResponse
                ? nil : .warning(payload, at: envelope.at, severity: severityOf(envelope.ticketId) ?? .minor)
        case SLABreached.type:
            let payload = try document.event(SLABreached.self).payload
            return payload.metric == .firstResponse ? nil : .breached(payload, at: envelope.at)
        case SLAMet.type:
            let payload = try document.event(SLAMet.self).payload
            return payload.metric == .firstResponse ? nil : .met(payload)
        case SLARecalculated.type:
            let payload = try document.event(SLARecalculated.self).payload
            return payload.metric == .firstResponse ? nil : .recalculated(payload, at: envelope.at)
        case SLAStopped.type:
            let payload = try document.event(SLAStopped.self).payload
            return payload.metric == .firstResponse ? nil : .stopped(payload, at: envelope.at)
        default:
            return nil
        }
    }
}
