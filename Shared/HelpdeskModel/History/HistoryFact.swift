import Foundation

/// An event the history store reads, decoded to what the ticket's fold needs.
public enum HistoryFact: Sendable, Equatable {
    case received(TicketReceived)
    case rejected(TicketRejected)
    case routedToDocs(TicketRoutedToDocs)
    case classified(TicketClassified)
    case message(TicketMessagePosted)
    case severityChanged(TicketSeverityChanged)
    case assigned(TicketAssigned)
    case statusChanged(TicketStatusChanged)
    case slaStarted(SLAStarted)
    case slaWarning(SLAWarning)
    case slaRecalculated(SLARecalculated)
    case slaMet(SLAMet)
    case slaBreached(SLABreached)
    case slaStopped(SLAStopped)
    case slaRespondedAfterBreach(SLARespondedAfterBreach)
    case slaResolvedAfterBreach(SLAResolvedAfterBreach)
    /// An event of a metric beyond the first response: on the timeline, and in the ticket's
    /// running metrics; not the first-response clock's state.
    case slaMetric(SLAMetricFact)
    /// The forecaster's word on the first response (`sla.forecast`).
    case slaExpected(SLAExpected)
    case slaAtRisk(SLAAtRisk)
    case slaAtRiskCleared(SLAAtRiskCleared)
    case escalationRequested(EscalationRequested)
    case escalationEvaluating(EscalationEvaluating)
    case escalationEscalated(EscalationEscalated)
    case escalationConditionRecorded(EscalationConditionRecorded)
    case escalationDeEscalated(EscalationDeEscalated)
    /// A refused command, de-escalation or request: on the timeline, no change of state.
    case escalationRefusal(summary: String)
    case notificationDelivered(NotificationDelivered)
    /// An event type this version does not know: kept on the timeline as it came.
    case other
}

/// One event as the history store keeps it: its envelope, where it was read, a line a person
/// reads on the timeline, and the record's bytes as they came.
public struct HistoryEvent: Sendable, Equatable {
    public var eventId: String
    public var ticketId: String
    public var source: String
    public var externalId: String
    public var type: String
    public var at: Date
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var summary: String
    public var body: String
    public var fact: HistoryFact

    public init(
        eventId: String, ticketId: String, source: String, externalId: String, type: String, at: Date, topic: String,
        partition: Int32, offset: Int64, summary: String, body: String, fact: HistoryFact
    ) {
        self.eventId = eventId
        self.ticketId = ticketId
        self.source = source
        self.externalId = externalId
        self.type = type
        self.at = at
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.summary = summary
        self.body = body
        self.fact = fact
    }
}

/// Why a record cannot go into the history: it is dead-lettered with this reason.
public struct HistoryDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: String
    public let reason: String
    public var description: String { reason }

    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension HistoryEvent {
    /// Where the event's topic sits in the pipeline: the timeline's order among events of the
    /// same second (intake, classifier, activity, sla-timer, escalation, notifier).
    public var stage: Int {
        switch topic {
        case Topics.received, Topics.rejected: 0
        case Topics.classified, Topics.docsFeedback: 1
        case Topics.activity: 2
        case Topics.slaEvents, Topics.slaForecast: 3
        case Topics.escalationEvents: 4
        default: 5
        }
    }

    /// The topics the history store reads (docs/history-store.md).
    public static let topics = [
        Topics.received, Topics.rejected, Topics.docsFeedback, Topics.classified, Topics.activity, Topics.slaEvents,
        Topics.escalationEvents, Topics.notificationsDelivered, Topics.slaForecast,
    ]

    /// Decodes a record of one of `topics`. A record that is not JSON, lacks the envelope, or
    /// whose known type does not decode is refused; an unknown type is kept as `.other`.
    public init(topic: String, partition: Int32, offset: Int64, bytes: [UInt8]) throws(HistoryDecodingError) {
        let document: EventDocument
        do {
            document = try EventDocument(bytes)
        } catch {
            throw HistoryDecodingError(code: "malformed_event", reason: "not an event (JSON with the envelope's fields): \(error)")
        }
        let envelope = document.envelope
        guard let body = String(validating: bytes, as: UTF8.self) else {
            throw HistoryDecodingError(code: "malformed_event", reason: "not UTF-8")
        }
        for (name, value) in [("eventId", envelope.eventId.rawValue), ("ticketId", envelope.ticketId.rawValue),
                              ("source", envelope.source), ("externalId", envelope.externalId), ("type", envelope.type)]
        where value.isEmpty || value.utf8.count > Self.longestIdentifier {
            throw HistoryDecodingError(code: "malformed_event", reason: "\(name) must be 1 to \(Self.longestIdentifier) bytes")
        }
        // A database's text cannot hold U+0000 (PostgreSQL refuses it): such an event would stop
        // the projector on every attempt, so it is refused here, where it can be dead-lettered.
        if Self.mayHoldNUL(bytes), (try? JSONParser.parse(bytes)).map(Self.holdsNUL) ?? true {
            throw HistoryDecodingError(code: "malformed_event", reason: "a string holds U+0000, which the store cannot keep")
        }
        let (fact, summary): (HistoryFact, String)
        do {
            (fact, summary) = try Self.read(document, type: envelope.type)
        } catch {
            throw HistoryDecodingError(code: "malformed_event", reason: "a \(envelope.type) that does not decode: \(error)")
        }
        self.init(
            eventId: envelope.eventId.rawValue, ticketId: envelope.ticketId.rawValue, source: envelope.source,
            externalId: envelope.externalId, type: envelope.type, at: envelope.at, topic: topic, partition: partition,
            offset: offset, summary: summary, body: body, fact: fact)
    }

    /// The longest id, source or type kept (intake's limit on ids).
    public static let longestIdentifier = 200

    /// Whether the bytes hold the escape `\u0000` (in any case), the only way JSON spells NUL.
    static func mayHoldNUL(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 6 else { return false }
        for index in 0...(bytes.count - 6) where bytes[index] == 0x5C && (bytes[index + 1] | 0x20) == 0x75
            && bytes[index + 2] == 0x30 && bytes[index + 3] == 0x30 && bytes[index + 4] == 0x30 && bytes[index + 5] == 0x30 {
            return true
        }
        return false
    }

    static func holdsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): text.unicodeScalars.contains("\u{0}")
        case .array(let values): values.contains(where: holdsNUL)
        case .object(let members): members.contains { $0.key.unicodeScalars.contains("\u{0}") || holdsNUL($0.value) }
        case .null, .bool, .number: false
        }
    }

    /// A forecast's cause in words: the queue ahead and the agents on shift.
    static func cause(_ forecast: ResponseForecast) -> String {
        "\(forecast.ahead) ahead in the queue, \(forecast.agentsOnShift) agent(s) on shift"
    }

    private static func read(_ document: EventDocument, type: String) throws -> (HistoryFact, String) {
        func payload<P: EventPayload>(_ kind: P.Type) throws -> P { try document.event(kind).payload }
        if let fact = try SLAMetricFact(document) { return (.slaMetric(fact), fact.summary) }
        switch type {
        case TicketReceived.type:
            let event = try payload(TicketReceived.self)
            return (.received(event), "received from \(event.organizationId): \(event.subject)")
        case TicketRejected.type:
            let event = try payload(TicketRejected.self)
            return (.rejected(event), "rejected (\(event.reason.rawValue)): \(event.message)")
        case TicketRoutedToDocs.type:
            let event = try payload(TicketRoutedToDocs.self)
            return (.routedToDocs(event), "routed to documentation: \(event.reason)")
        case TicketClassified.type:
            let event = try payload(TicketClassified.self)
            let reasons = event.signals.map { "\($0.criterion) (\($0.foundIn))" }.joined(separator: "; ")
            let confidence = String(format: "%.2f", event.confidence)
            return (.classified(event), "classified \(event.severity.name), confidence \(confidence)"
                + (reasons.isEmpty ? ", no signal" : ": \(reasons)"))
        case TicketMessagePosted.type:
            let event = try payload(TicketMessagePosted.self)
            let who = event.author.email ?? event.author.name ?? event.author.role.rawValue
            return (.message(event), "\(event.isPublic ? "public" : "internal") message from \(who) (\(event.author.role.rawValue))"
                + (event.cc.isEmpty ? "" : ", cc \(event.cc.joined(separator: ", "))"))
        case TicketSeverityChanged.type:
            let event = try payload(TicketSeverityChanged.self)
            return (.severityChanged(event), "severity set to \(event.severity.name) by \(event.changedBy ?? "an agent")"
                + (event.reason.map { ": \($0)" } ?? ""))
        case TicketAssigned.type:
            let event = try payload(TicketAssigned.self)
            return (.assigned(event), "assigned to \(event.assignee)" + (event.assignedBy.map { " by \($0)" } ?? ""))
        case TicketStatusChanged.type:
            let event = try payload(TicketStatusChanged.self)
            return (.statusChanged(event), "status \(event.status.rawValue)")
        case SLAStarted.type:
            let event = try payload(SLAStarted.self)
            return (.slaStarted(event), "first-response clock started (\(event.severity.name)), due \(ISO8601.format(event.dueAt))")
        case SLAWarning.type:
            let event = try payload(SLAWarning.self)
            return (.slaWarning(event), "warning: \(event.remainingSeconds) business seconds left, due \(ISO8601.format(event.dueAt))")
        case SLARecalculated.type:
            let event = try payload(SLARecalculated.self)
            return (.slaRecalculated(event),
                    "recalculated \(event.oldSeverity.name) → \(event.severity.name), due \(ISO8601.format(event.dueAt))")
        case SLAMet.type:
            let event = try payload(SLAMet.self)
            return (.slaMet(event), "first response met at \(ISO8601.format(event.respondedAt)), "
                + "\(event.businessSecondsUsed) business seconds used")
        case SLABreached.type:
            let event = try payload(SLABreached.self)
            return (.slaBreached(event), "breached (\(event.severity.name)), due \(ISO8601.format(event.dueAt))")
        case SLAStopped.type:
            let event = try payload(SLAStopped.self)
            return (.slaStopped(event), "clock stopped: \(event.reason)")
        case SLARespondedAfterBreach.type:
            let event = try payload(SLARespondedAfterBreach.self)
            return (.slaRespondedAfterBreach(event),
                    "responded \(event.businessSecondsLate) business seconds after the deadline")
        case SLAResolvedAfterBreach.type:
            let event = try payload(SLAResolvedAfterBreach.self)
            return (.slaResolvedAfterBreach(event), "resolved after the breach at \(ISO8601.format(event.resolvedAt))")
        case SLAExpected.type:
            let event = try payload(SLAExpected.self)
            return (.slaExpected(event), "first response expected by \(ISO8601.format(event.forecast.expectedAt)), "
                + "due \(ISO8601.format(event.forecast.dueAt)) (\(Self.cause(event.forecast)))"
                + (event.customerTold ? "; customer told: \(event.text)" : ""))
        case SLAAtRisk.type:
            let event = try payload(SLAAtRisk.self)
            return (.slaAtRisk(event), "at risk (#\(event.episode)): first response expected by "
                + "\(ISO8601.format(event.forecast.expectedAt)), after the due instant \(ISO8601.format(event.forecast.dueAt)) "
                + "(\(Self.cause(event.forecast)))")
        case SLAAtRiskCleared.type:
            let event = try payload(SLAAtRiskCleared.self)
            return (.slaAtRiskCleared(event), "no longer at risk (#\(event.episode)): first response expected by "
                + "\(ISO8601.format(event.forecast.expectedAt)) (\(Self.cause(event.forecast)))")
        case EscalationRequested.type:
            let event = try payload(EscalationRequested.self)
            return (.escalationRequested(event), "escalation requested by \(event.by) via \(event.via.rawValue)")
        case EscalationEvaluating.type:
            let event = try payload(EscalationEvaluating.self)
            return (.escalationEvaluating(event), "escalation engineer \(event.engineer) assigned by \(event.by)")
        case EscalationEscalated.type:
            let event = try payload(EscalationEscalated.self)
            return (.escalationEscalated(event), "escalated by \(event.by)")
        case EscalationConditionRecorded.type:
            let event = try payload(EscalationConditionRecorded.self)
            return (.escalationConditionRecorded(event), "condition \(event.condition.rawValue) recorded by \(event.by)"
                + (event.note.map { ": \($0)" } ?? ""))
        case EscalationDeEscalated.type:
            let event = try payload(EscalationDeEscalated.self)
            return (.escalationDeEscalated(event), "de-escalated by \(event.by)")
        case EscalationDeEscalationRefused.type:
            let event = try payload(EscalationDeEscalationRefused.self)
            let summary = "de-escalation refused (\(event.by)): missing \(event.missing.map(\.rawValue).joined(separator: ", "))"
            return (.escalationRefusal(summary: summary), summary)
        case EscalationCommandRefused.type:
            let event = try payload(EscalationCommandRefused.self)
            let summary = "\(event.command) refused (\(event.by)): \(event.reason)"
            return (.escalationRefusal(summary: summary), summary)
        case EscalationRequestRefused.type:
            let event = try payload(EscalationRequestRefused.self)
            let summary = "escalation request refused (\(event.reason.rawValue)) for \(event.by)"
            return (.escalationRefusal(summary: summary), summary)
        case NotificationDelivered.type:
            let event = try payload(NotificationDelivered.self)
            return (.notificationDelivered(event), "notified \(event.audience.rawValue) \(event.recipient) by \(event.channel.rawValue)"
                + (event.kind.map { " (\($0.rawValue))" } ?? ""))
        default:
            return (.other, type)
        }
    }
}

/// One event of a metric beyond the first response, as the history keeps it.
public struct SLAMetricFact: Sendable, Equatable {
    public enum Transition: String, Sendable, Equatable { case started, warning, recalculated, paused, resumed, met, breached, stopped }
    public var metric: SLAMetric
    /// 0 for the resolution; the cycle or period number otherwise.
    public var instance: Int
    public var transition: Transition
    /// The due instant after this event, where it says one.
    public var dueAt: Date?
    public var severity: Severity?
    public var summary: String

    /// Nil for an event that is not a further metric's (a first-response event, say).
    init?(_ document: EventDocument) throws {
        func payload<P: EventPayload>(_ kind: P.Type) throws -> P { try document.event(kind).payload }
        let type = document.envelope.type
        switch type {
        case SLAStarted.type:
            let e = try payload(SLAStarted.self)
            guard e.metric != .firstResponse else { return nil }
            self.init(e.metric, e.instance, .started, due: e.dueAt, severity: e.severity,
                      "started (\(e.severity.name)\(e.plan.map { ", plan \($0)" } ?? "")), due \(ISO8601.format(e.dueAt))")
        case SLAWarning.type:
            let e = try payload(SLAWarning.self)
            guard e.metric != .firstResponse else { return nil }
            self.init(e.metric, e.instance, .warning, due: e.dueAt, "warning: \(e.remainingSeconds) business seconds left")
        case SLARecalculated.type:
            let e = try payload(SLARecalculated.self)
            guard e.metric != .firstResponse else { return nil }
            self.init(e.metric, e.instance, .recalculated, due: e.dueAt, severity: e.severity,
                      "recalculated \(e.oldSeverity.name) → \(e.severity.name), due \(ISO8601.format(e.dueAt))")
        case SLAPaused.type:
            let e = try payload(SLAPaused.self)
            self.init(e.metric, e.instance, .paused, "paused (\(e.status.rawValue)), \(e.remainingSeconds) business seconds left")
        case SLAResumed.type:
            let e = try payload(SLAResumed.self)
            self.init(e.metric, e.instance, .resumed, due: e.dueAt, "resumed (\(e.status.rawValue)), due \(ISO8601.format(e.dueAt))")
        case SLAMet.type:
            let e = try payload(SLAMet.self)
            guard e.metric != .firstResponse else { return nil }
            self.init(e.metric, e.instance, .met, "met at \(ISO8601.format(e.respondedAt)), \(e.businessSecondsUsed) business seconds used")
        case SLABreached.type:
            let e = try payload(SLABreached.self)
            guard e.metric != .firstResponse else { return nil }
            self.init(e.metric, e.instance, .breached, severity: e.severity, "breached (\(e.severity.name)), due \(ISO8601.format(e.dueAt))")
        case SLAStopped.type:
            let e = try payload(SLAStopped.self)
            guard e.metric != .firstResponse else { return nil }
            self.init(e.metric, e.instance, .stopped, "stopped: \(e.reason)")
        default:
            return nil
        }
    }

    init(_ metric: SLAMetric, _ instance: Int?, _ transition: Transition, due: Date? = nil, severity: Severity? = nil, _ text: String) {
        self.metric = metric
        self.instance = instance ?? 0
        self.transition = transition
        dueAt = due
        self.severity = severity
        summary = "\(metric.rawValue)\(instance.map { " #\($0)" } ?? ""): \(text)"
    }

    /// Whether an event is a further metric's (an `sla.*` event whose metric is not the first response).
    public static func isFurtherMetric(_ document: EventDocument) -> Bool { (try? SLAMetricFact(document)) != nil }

    /// Whether the instance is still counting (or paused) after this event.
    public var isOpen: Bool { [.started, .warning, .recalculated, .paused, .resumed].contains(transition) }
}
