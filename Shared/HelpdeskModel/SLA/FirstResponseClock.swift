import Foundation

/// One ticket's first-response clock: the pure state machine the sla-timer service runs.
///
/// Inputs may arrive in any order across topics (an agent can answer before the
/// classification is seen), so the clock remembers what it learned before it started.
/// Decisions use the inputs' own times (a reply sent before the deadline meets it even if it is
/// seen later), and the first outcome is final: exactly one of `sla.met`, `sla.breached` or
/// `sla.stopped`, however often inputs are redelivered.
public struct FirstResponseClock: Sendable, Equatable {
    public enum Phase: String, Sendable, Codable, CaseIterable { case waiting, running, met, breached, stopped }

    public let ticketId: TicketID
    public let source: String
    public let externalId: String
    public private(set) var phase: Phase = .waiting
    public private(set) var severity: Severity?
    public private(set) var warned = false
    // Instants as whole epoch seconds (they are kept to the second anyway): the sla-timer
    // holds a million clocks, and an optional Date takes twice the room.
    private var started = Instant.none
    private var due = Instant.none
    private var warning = Instant.none
    private var responded = Instant.none
    private var resolved = Instant.none

    public var startedAt: Date? {
        get { started.date }
        set { started = Instant(newValue) }
    }
    public var dueAt: Date? {
        get { due.date }
        set { due = Instant(newValue) }
    }
    public var warnAt: Date? {
        get { warning.date }
        set { warning = Instant(newValue) }
    }
    /// The first public agent message, even if it came after a breach or before the start.
    public var respondedAt: Date? {
        get { responded.date }
        set { responded = Instant(newValue) }
    }
    /// Resolved (solved/closed) before any response, and when.
    public var resolvedAt: Date? {
        get { resolved.date }
        set { resolved = Instant(newValue) }
    }

    public init(ticketId: TicketID, source: String, externalId: String) {
        self.ticketId = ticketId
        self.source = source
        self.externalId = externalId
    }

    public enum Input: Sendable, Equatable {
        case classified(severity: Severity, openedAt: Date, eventId: EventID)
        case agentReplied(at: Date)
        case severityChanged(to: Severity, at: Date, eventId: EventID)
        case resolved(at: Date, status: TicketStatus)
        /// Time has passed: fire what fell due up to `now`.
        case tick(now: Date)
    }

    public enum Output: Sendable, Equatable {
        case started(SLAStarted, cause: String)
        case warning(SLAWarning, cause: String)
        case breached(SLABreached, cause: String)
        case met(SLAMet, cause: String)
        case recalculated(SLARecalculated, cause: String)
        case stopped(SLAStopped, cause: String)
    }

    /// The next instant at which `tick` would produce something, for the timer queue.
    public var nextDeadline: Date? {
        guard phase == .running else { return nil }
        return warned ? dueAt : warnAt
    }

    public mutating func apply(_ input: Input, policy: SLAPolicy) -> [Output] {
        switch input {
        case .classified(let severity, let openedAt, let eventId):
            guard phase == .waiting else { return [] }
            self.severity = severity
            startedAt = openedAt
            schedule(policy)
            phase = .running
            var outputs: [Output] = [.started(SLAStarted(severity: severity, startedAt: startedAt!, dueAt: dueAt!),
                                              cause: eventId.rawValue)]
            // What happened before the classification was seen is decided now, by its time.
            if let respondedAt { outputs += respond(at: respondedAt, policy: policy) }
            if phase == .running, let resolvedAt { outputs += resolve(at: resolvedAt) }
            return outputs
        case .agentReplied(let at):
            guard respondedAt == nil else { return [] }
            respondedAt = at
            return phase == .running ? respond(at: respondedAt!, policy: policy) : []
        case .severityChanged(let newSeverity, let at, let eventId):
            guard phase == .running, let old = severity, newSeverity != old else {
                if phase == .waiting { severity = newSeverity }
                return []
            }
            severity = newSeverity
            warned = false
            schedule(policy)
            var outputs: [Output] = [.recalculated(SLARecalculated(oldSeverity: old, severity: newSeverity, dueAt: dueAt!),
                                                   cause: eventId.rawValue)]
            // Recomputed from the original start: a deadline already past is a breach at once.
            outputs += fire(upTo: ISO8601.wholeSeconds(at), policy: policy)
            return outputs
        case .resolved(let at, _):
            guard resolvedAt == nil, respondedAt == nil else { return [] }
            resolvedAt = at
            return phase == .running ? resolve(at: resolvedAt!) : []
        case .tick(let now):
            guard phase == .running else { return [] }
            return fire(upTo: ISO8601.wholeSeconds(now), policy: policy)
        }
    }

    /// Learns from an event this clock's service published but whose state was not saved
    /// (the process died in between), so that handling the inputs again neither repeats it
    /// nor contradicts it: after a published breach, a late reply cannot produce `sla.met`.
    public mutating func observe(_ published: Output, policy: SLAPolicy) {
        switch published {
        case .started(let event, _):
            guard phase == .waiting else { return }
            severity = event.severity
            startedAt = event.startedAt
            schedule(policy)
            phase = .running
        case .warning(let event, _):
            if dueAt == event.dueAt { warned = true }
        case .recalculated(let event, _):
            guard phase == .running, severity != event.severity else { return }
            severity = event.severity
            warned = false
            schedule(policy)
        case .breached(let event, _):
            guard phase == .running || phase == .waiting else { return }
            severity = severity ?? event.severity
            dueAt = event.dueAt
            phase = .breached
        case .met(let event, _):
            guard phase == .running || phase == .waiting else { return }
            dueAt = event.dueAt
            respondedAt = event.respondedAt
            phase = .met
        case .stopped:
            guard phase == .running || phase == .waiting else { return }
            phase = .stopped
        }
    }

    private mutating func schedule(_ policy: SLAPolicy) {
        guard let severity, let startedAt else { return }
        dueAt = policy.firstResponseDue(severity: severity, openedAt: startedAt)
        warnAt = policy.warningAt(severity: severity, openedAt: startedAt)
    }

    /// The warning and the breach that fell due at or before `now`.
    private mutating func fire(upTo now: Date, policy: SLAPolicy) -> [Output] {
        guard phase == .running, let dueAt, let warnAt, let severity else { return [] }
        var outputs = [Output]()
        if !warned, warnAt <= now, now < dueAt {
            warned = true
            let remaining = policy.calendar.remaining(now: warnAt, due: dueAt).components.seconds
            outputs.append(.warning(SLAWarning(dueAt: dueAt, remainingSeconds: Int(remaining)),
                                    cause: "warning/\(ISO8601.format(dueAt))"))
        }
        if dueAt <= now {
            phase = .breached
            outputs.append(.breached(SLABreached(severity: severity, dueAt: dueAt), cause: "terminal"))
        }
        return outputs
    }

    private mutating func respond(at time: Date, policy: SLAPolicy) -> [Output] {
        guard phase == .running, let dueAt, let startedAt else { return [] }
        // A response dated before the clock started (a client's clock, or a reply to an earlier
        // ticket with the same id) counts as given at the start, never before it.
        let time = max(time, startedAt)
        // A response after the due time is a breach that nobody has fired yet.
        if time >= dueAt { return fire(upTo: time, policy: policy) }
        phase = .met
        let used = policy.calendar.businessElapsed(from: startedAt, to: time).components.seconds
        return [.met(SLAMet(dueAt: dueAt, respondedAt: time, businessSecondsUsed: Int(used)), cause: "terminal")]
    }

    private mutating func resolve(at time: Date) -> [Output] {
        guard phase == .running, let dueAt else { return [] }
        guard time < dueAt else { return [] }
        phase = .stopped
        return [.stopped(SLAStopped(reason: "resolved before a first response"), cause: "stopped")]
    }
}

/// An optional instant to the second in eight bytes.
private struct Instant: Sendable, Equatable {
    private let seconds: Int64
    static let none = Instant(seconds: .min)

    private init(seconds: Int64) { self.seconds = seconds }

    init(_ date: Date?) {
        guard let date else {
            self = .none
            return
        }
        seconds = date.epochSeconds
    }

    var date: Date? { seconds == .min ? nil : Date(timeIntervalSince1970: TimeInterval(seconds)) }
}

/// A ticket's first-response clock as operators ask about it (`helpdesk sla status`,
/// `GET /v1/sla/{ticketId}`).
public struct SLAClockStatus: Sendable, Equatable, Codable {
    public var ticketId: TicketID
    public var source: String
    public var externalId: String
    public var metric: SLAMetric
    public var state: FirstResponseClock.Phase
    public var severity: Severity?
    public var startedAt: Date?
    public var dueAt: Date?
    public var warned: Bool
    /// Business time left until the deadline, while the clock runs.
    public var remainingBusinessSeconds: Int?
    public var respondedAt: Date?
    public var resolvedAt: Date?

    public init(_ clock: FirstResponseClock, now: Date, policy: SLAPolicy) {
        ticketId = clock.ticketId
        source = clock.source
        externalId = clock.externalId
        metric = .firstResponse
        state = clock.phase
        severity = clock.severity
        startedAt = clock.startedAt
        dueAt = clock.dueAt
        warned = clock.warned
        respondedAt = clock.respondedAt
        resolvedAt = clock.resolvedAt
        if clock.phase == .running, let dueAt = clock.dueAt {
            remainingBusinessSeconds = Int(policy.calendar.remaining(now: now, due: dueAt).components.seconds)
        }
    }
}

extension FirstResponseClock {
    /// The clock as the sla-timer writes it to its changelog: compact JSON, instants as
    /// ISO-8601, members sorted. Read back with `init(changelogValue:)`; restoring a partition
    /// parses one of these per ticket, so it goes through the project's own JSON parser.
    public var changelogValue: [UInt8] {
        var members: [String: JSONValue] = [
            "ticketId": .string(ticketId.rawValue), "source": .string(source), "externalId": .string(externalId),
            "phase": .string(phase.rawValue), "warned": .bool(warned),
        ]
        if let severity { members["severity"] = .string(severity.name) }
        let instants: [(String, Date?)] = [
            ("startedAt", startedAt), ("dueAt", dueAt), ("warnAt", warnAt), ("respondedAt", respondedAt),
            ("resolvedAt", resolvedAt),
        ]
        for (name, instant) in instants {
            if let instant { members[name] = .string(ISO8601.format(instant)) }
        }
        return JSONValue.object(members).serialized()
    }

    public init(changelogValue bytes: [UInt8]) throws(ChangelogValueError) {
        // What this type writes (a flat object of plain strings and booleans) is read by a
        // direct scan; anything else goes through the full parser.
        let members: [String: JSONValue]
        if let flat = FlatObject.scan(bytes) {
            members = flat
        } else if case .object(let parsed)? = try? JSONParser.parse(bytes) {
            members = parsed
        } else {
            throw ChangelogValueError("not a JSON object")
        }
        func text(_ name: String) throws(ChangelogValueError) -> String? {
            switch members[name] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw ChangelogValueError("\(name) is not a string")
            }
        }
        func required(_ name: String) throws(ChangelogValueError) -> String {
            guard let value = try text(name) else { throw ChangelogValueError("\(name) is missing") }
            return value
        }
        func instant(_ name: String) throws(ChangelogValueError) -> Date? {
            guard let value = try text(name) else { return nil }
            guard let date = ISO8601.parse(value) else { throw ChangelogValueError("\(name) is not an instant") }
            return date
        }
        self.init(ticketId: TicketID(rawValue: try required("ticketId")), source: try required("source"),
                  externalId: try required("externalId"))
        guard let phase = Phase(rawValue: try required("phase")) else { throw ChangelogValueError("unknown phase") }
        self.phase = phase
        if let name = try text("severity") {
            guard let severity = Severity(parsing: name) else { throw ChangelogValueError("unknown severity \(name)") }
            self.severity = severity
        }
        if case .bool(let warned)? = members["warned"] { self.warned = warned }
        startedAt = try instant("startedAt")
        dueAt = try instant("dueAt")
        warnAt = try instant("warnAt")
        respondedAt = try instant("respondedAt")
        resolvedAt = try instant("resolvedAt")
    }
}

/// A scan of a flat JSON object whose members are strings without escapes or booleans,
/// without building a parse tree; nil for anything else.
enum FlatObject {
    static func scan(_ bytes: [UInt8]) -> [String: JSONValue]? {
        bytes.withUnsafeBufferPointer { b -> [String: JSONValue]? in
            var members = [String: JSONValue](minimumCapacity: 12)
            var i = 0
            func string() -> String? {
                guard i < b.count, b[i] == 0x22 else { return nil }
                let start = i + 1
                var end = start
                while end < b.count, b[end] != 0x22 {
                    if b[end] == 0x5C || b[end] < 0x20 { return nil }  // escapes: leave to the full parser
                    end += 1
                }
                guard end < b.count else { return nil }
                i = end + 1
                return String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
            }
            guard b.count >= 2, b[0] == 0x7B else { return nil }
            i = 1
            if b[i] == 0x7D { return i + 1 == b.count ? members : nil }
            while true {
                guard let key = string(), i < b.count, b[i] == 0x3A else { return nil }
                i += 1
                guard i < b.count else { return nil }
                let value: JSONValue
                if b[i] == 0x22 {
                    guard let text = string() else { return nil }
                    value = .string(text)
                } else if b.count - i >= 4, b[i] == 0x74, b[i + 1] == 0x72, b[i + 2] == 0x75, b[i + 3] == 0x65 {
                    value = .bool(true)
                    i += 4
                } else if b.count - i >= 5, b[i] == 0x66, b[i + 1] == 0x61, b[i + 2] == 0x6C, b[i + 3] == 0x73, b[i + 4] == 0x65 {
                    value = .bool(false)
                    i += 5
                } else {
                    return nil
                }
                // A repeated member is refused by the full parser, as everywhere else.
                guard members.updateValue(value, forKey: key) == nil else { return nil }
                guard i < b.count else { return nil }
                if b[i] == 0x2C {
                    i += 1
                    continue
                }
                guard b[i] == 0x7D, i + 1 == b.count else { return nil }
                return members
            }
        }
    }
}

public struct ChangelogValueError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = "unreadable clock state: " + description }
}
