import Foundation

/// A ticket's clocks beyond the first response: resolution, next-reply cycles and periodic
/// updates, as the policy of its plan sets them for the severity in force. The pure state
/// machine the sla-timer runs beside `FirstResponseClock`.
///
/// - `resolution` runs from the ticket's opening to its first solved/closed status.
/// - A `nextReply` cycle starts at a public customer message once the first response has been
///   given (while none is running) and ends at the next public agent message.
/// - A `periodicUpdate` period starts at each public agent message and ends at the next one:
///   while the ticket is open, an update is owed every period.
///
/// Every instance ends with exactly one of `sla.met`, `sla.breached` or `sla.stopped`. A clock
/// pauses while the ticket is in a status its metric lists (`sla.paused`) and resumes with a
/// recomputed due instant (`sla.resumed`). Decisions use the inputs' own times; activity that
/// arrives before the classification is kept and replayed, in order, when it comes.
public struct TicketMetrics: Sendable, Equatable {
    public private(set) var plan: String?
    /// The severity in force (the classifier's, then a person's).
    public private(set) var severity: Severity?
    public private(set) var status: TicketStatus = .open
    var opened: Int64 = .min
    /// A public agent message has been seen: the first response is given.
    var answered = false
    var resolved = false
    /// The latest instance of each metric (kept once it ends: the next one is numbered after it).
    public private(set) var resolution: MetricClock?
    public private(set) var nextReply: MetricClock?
    public private(set) var periodicUpdate: MetricClock?
    /// Activity seen before the classification, in the order it came.
    var pending: [Activity] = []
    public static let pendingLimit = 64
    /// Events published before a restart and not yet produced again (see `observe`).
    var published: Set<String> = []
    /// The position of the last activity applied (`Input.activity`), -1 before any.
    var applied: Int64 = -1
    /// The latest public agent and customer messages: a customer message an agent has already
    /// answered (seen late) starts no cycle; one that reopened a solved ticket starts one when
    /// the ticket is open again.
    var lastAgent: Int64 = .min
    var lastCustomer: Int64 = .min

    public enum Activity: Sendable, Equatable {
        case customerMessage(at: Date)
        case agentMessage(at: Date)
        case statusChanged(TicketStatus, at: Date)
        case severityChanged(Severity, at: Date)
    }

    public enum Input: Sendable, Equatable {
        case classified(severity: Severity, openedAt: Date, plan: String?)
        /// `position`: the record's offset in `tickets.activity` (one partition holds a
        /// ticket's activity, in order); an input at or before the last one applied is one the
        /// state already reflects (handled again after a restart) and changes nothing.
        case activity(Activity, position: Int64? = nil)
        case tick(now: Date)
    }

    public init() {}

    public var clocks: [MetricClock] { [resolution, nextReply, periodicUpdate].compactMap { $0 } }

    /// The next instant at which time alone changes one of the clocks.
    public var nextDeadline: Date? { clocks.compactMap(\.nextDeadline).min() }

    public var openClockCount: Int { clocks.count { $0.isOpen } }

    public mutating func apply(_ input: Input, policy: SLAPolicy) -> [MetricOutput] {
        unpublished(handle(input, policy: policy))
    }

    private mutating func handle(_ input: Input, policy: SLAPolicy) -> [MetricOutput] {
        switch input {
        case .classified(let classified, let openedAt, let plan):
            guard severity == nil else { return [] }
            self.plan = plan
            severity = classified
            opened = openedAt.epochSeconds
            var outputs = [MetricOutput]()
            if let target = policy.target(for: classified).resolution {
                outputs += start(.resolution, instance: 0, at: openedAt, target: target, policy: policy)
            }
            let replay = pending
            pending = []
            for activity in replay { outputs += decide(activity, policy: policy) }
            return outputs
        case .activity(let activity, let position):
            if let position {
                guard position > applied else { return [] }
                applied = position
            }
            guard severity != nil else {
                pending.append(activity)
                if pending.count > Self.pendingLimit { pending.removeFirst() }
                return []
            }
            return decide(activity, policy: policy)
        case .tick(let now):
            return fire(upTo: ISO8601.wholeSeconds(now).epochSeconds, policy: policy)
        }
    }

    private mutating func decide(_ activity: Activity, policy: SLAPolicy) -> [MetricOutput] {
        switch activity {
        case .customerMessage(let at):
            let time = max(at.epochSeconds, opened)
            lastCustomer = max(lastCustomer, time)
            return fire(upTo: time, policy: policy) + startReplyCycle(at: time, policy: policy)
        case .agentMessage(let at):
            let time = max(at.epochSeconds, opened)
            var outputs = fire(upTo: time, policy: policy)
            answered = true
            lastAgent = max(lastAgent, time)
            if let clock = nextReply, clock.isOpen, time >= clock.start {
                outputs += end(\.nextReply, .met, at: time, policy: policy)
            }
            guard !resolved, let severity, let target = policy.target(for: severity).periodicUpdate else { return outputs }
            // The message that started a period (seen again after a restart) does not end it.
            guard time > periodicUpdate?.start ?? .min else { return outputs }
            if periodicUpdate?.isOpen == true { outputs += end(\.periodicUpdate, .met, at: time, policy: policy) }
            outputs += start(.periodicUpdate, instance: (periodicUpdate?.instance ?? 0) + 1, at: Date(epochSeconds: time),
                             target: target, policy: policy)
            return outputs
        case .statusChanged(let newStatus, let at):
            let time = max(at.epochSeconds, opened)
            var outputs = fire(upTo: time, policy: policy)
            status = newStatus
            if newStatus.isResolved {
                guard !resolved else { return outputs }
                resolved = true
                if resolution?.isOpen == true { outputs += end(\.resolution, .met, at: time, policy: policy) }
                for path in [\TicketMetrics.nextReply, \.periodicUpdate] where self[keyPath: path]?.isOpen == true {
                    outputs += end(path, .stopped, at: time, reason: "the ticket was \(newStatus.rawValue)", policy: policy)
                }
                return outputs
            }
            // Reopened: the resolution clock has ended; updates are owed again from the next one,
            // and a customer message that came while it was solved waits for its reply now.
            let reopened = resolved
            resolved = false
            if reopened, lastCustomer > lastAgent { outputs += startReplyCycle(at: lastCustomer, policy: policy) }
            for path in Self.paths {
                guard let clock = self[keyPath: path], clock.isOpen,
                      let target = policy.target(for: clock.severity).metric(clock.metric) else { continue }
                if target.pauses.contains(newStatus) {
                    outputs += pause(path, at: time, policy: policy)
                } else {
                    outputs += resume(path, at: time, target: target, policy: policy)
                }
            }
            return outputs
        case .severityChanged(let newSeverity, let at):
            let time = max(at.epochSeconds, opened)
            // What fell due before the change fell due under the severity then in force.
            var outputs = fire(upTo: time, policy: policy)
            guard let old = severity, newSeverity != old else { return outputs }
            severity = newSeverity
            let targets = policy.target(for: newSeverity)
            for path in Self.paths {
                guard let clock = self[keyPath: path], clock.isOpen else { continue }
                guard let target = targets.metric(clock.metric) else {
                    outputs += end(path, .stopped, at: time,
                                   reason: "\(newSeverity.name) tickets have no \(clock.metric.rawValue) target", policy: policy)
                    continue
                }
                outputs += recalculate(path, from: old, to: newSeverity, at: time, target: target, policy: policy)
            }
            // A metric the new severity has and the old one had not starts now (resolution: from the opening).
            if resolution == nil, !resolved, let target = targets.resolution {
                outputs += start(.resolution, instance: 0, at: Date(epochSeconds: opened), target: target, policy: policy)
                outputs += fire(upTo: time, policy: policy, breachNoEarlierThan: time)
            }
            if answered, !resolved, periodicUpdate?.isOpen != true, let target = targets.periodicUpdate {
                outputs += start(.periodicUpdate, instance: (periodicUpdate?.instance ?? 0) + 1, at: Date(epochSeconds: time),
                                 target: target, policy: policy)
            }
            return outputs
        }
    }

    /// A next-reply cycle from a customer message at `time`, if one is owed: after the first
    /// response, while the ticket is open, none running, and no agent message dated after it
    /// (one at the same second came first: messages are handled in the order they were posted).
    private mutating func startReplyCycle(at time: Int64, policy: SLAPolicy) -> [MetricOutput] {
        guard answered, !resolved, time != .min, time >= lastAgent, let severity, let target = policy.target(for: severity).nextReply,
              nextReply?.isOpen != true, time > nextReply?.start ?? .min else { return [] }
        return start(.nextReply, instance: (nextReply?.instance ?? 0) + 1, at: Date(epochSeconds: time), target: target, policy: policy)
    }

    private static var paths: [WritableKeyPath<TicketMetrics, MetricClock?>] { [\.resolution, \.nextReply, \.periodicUpdate] }

    private static func path(_ metric: SLAMetric) -> WritableKeyPath<TicketMetrics, MetricClock?>? {
        switch metric {
        case .resolution: \.resolution
        case .nextReply: \.nextReply
        case .periodicUpdate: \.periodicUpdate
        case .firstResponse: nil
        }
    }

    // MARK: Transitions

    private mutating func start(
        _ metric: SLAMetric, instance: Int, at: Date, target: MetricTarget, policy: SLAPolicy
    ) -> [MetricOutput] {
        guard let severity, let path = Self.path(metric) else { return [] }
        var clock = MetricClock(metric: metric, instance: instance, severity: severity, startedAt: ISO8601.wholeSeconds(at))
        clock.schedule(target, calendar: policy.calendar(for: severity))
        self[keyPath: path] = clock
        var outputs: [MetricOutput] = [.started(SLAStarted(severity: severity, metric: metric, instance: clock.number, plan: plan,
                                                            startedAt: clock.startedAt, dueAt: clock.dueAt!))]
        // Waiting on the customer already (a cycle opened while pending, say): paused from the start.
        if target.pauses.contains(status) { outputs += pause(path, at: clock.start, policy: policy) }
        return outputs
    }

    private mutating func end(
        _ path: WritableKeyPath<TicketMetrics, MetricClock?>, _ phase: MetricClock.Phase, at time: Int64, reason: String = "",
        policy: SLAPolicy
    ) -> [MetricOutput] {
        guard var clock = self[keyPath: path], clock.isOpen else { return [] }
        let calendar = policy.calendar(for: clock.severity)
        let at = Date(epochSeconds: max(time, clock.start))
        let output: MetricOutput
        switch phase {
        case .met:
            let due = clock.dueAt ?? dueIfResumed(clock, at: at, policy: policy)
            let used = clock.businessCounted(until: at, calendar: calendar)
            output = .met(SLAMet(metric: clock.metric, instance: clock.number, dueAt: due, respondedAt: at,
                                 businessSecondsUsed: Int(used)))
        case .stopped:
            output = .stopped(SLAStopped(metric: clock.metric, instance: clock.number, reason: reason), at: at)
        default:
            return []
        }
        clock.phase = phase
        if clock.pausedSince != .min {
            clock.pauses.append(clock.pausedSince...max(time, clock.pausedSince))
            clock.pausedSince = .min
        }
        self[keyPath: path] = clock
        return [output]
    }

    /// The due instant a paused clock would have if it resumed at `at` (what `sla.met` reports).
    private func dueIfResumed(_ clock: MetricClock, at: Date, policy: SLAPolicy) -> Date {
        var copy = clock
        guard let target = policy.target(for: clock.severity).metric(clock.metric) else { return at }
        copy.resume(at: at.epochSeconds, target, calendar: policy.calendar(for: clock.severity))
        return copy.dueAt ?? at
    }

    private mutating func pause(_ path: WritableKeyPath<TicketMetrics, MetricClock?>, at time: Int64, policy: SLAPolicy) -> [MetricOutput] {
        guard var clock = self[keyPath: path], clock.phase == .running, let due = clock.dueAt else { return [] }
        let at = Date(epochSeconds: max(time, clock.start))
        let remaining = policy.calendar(for: clock.severity).remaining(now: at, due: due).components.seconds
        clock.pause(at: at.epochSeconds)
        self[keyPath: path] = clock
        return [.paused(SLAPaused(metric: clock.metric, instance: clock.number, status: status, remainingSeconds: Int(remaining)), at: at)]
    }

    private mutating func resume(
        _ path: WritableKeyPath<TicketMetrics, MetricClock?>, at time: Int64, target: MetricTarget, policy: SLAPolicy
    ) -> [MetricOutput] {
        guard var clock = self[keyPath: path], clock.phase == .paused else { return [] }
        let calendar = policy.calendar(for: clock.severity)
        let at = max(time, clock.pausedSince)
        clock.resume(at: at, target, calendar: calendar)
        self[keyPath: path] = clock
        let paused = clock.pauses.reduce(Int64(0)) {
            $0 + calendar.businessElapsed(from: Date(epochSeconds: $1.lowerBound), to: Date(epochSeconds: $1.upperBound)).components.seconds
        }
        return [.resumed(SLAResumed(metric: clock.metric, instance: clock.number, status: status, dueAt: clock.dueAt!,
                                    pausedBusinessSeconds: Int(paused)), at: Date(epochSeconds: at))]
            // A due instant already past (a shorter target set while paused) is a breach at the resume.
            + fire(upTo: at, policy: policy, breachNoEarlierThan: at)
    }

    private mutating func recalculate(
        _ path: WritableKeyPath<TicketMetrics, MetricClock?>, from old: Severity, to new: Severity, at time: Int64,
        target: MetricTarget, policy: SLAPolicy
    ) -> [MetricOutput] {
        guard var clock = self[keyPath: path], clock.isOpen else { return [] }
        clock.severity = new
        guard clock.phase == .running else {
            // Paused: the new target applies when it resumes.
            self[keyPath: path] = clock
            return []
        }
        clock.schedule(target, calendar: policy.calendar(for: new))
        clock.rewarn()
        self[keyPath: path] = clock
        let at = Date(epochSeconds: time)
        return [.recalculated(SLARecalculated(metric: clock.metric, instance: clock.number, oldSeverity: old, severity: new,
                                              dueAt: clock.dueAt!), at: at)]
            // Recomputed from the clock's start: a due instant already past is a breach at the change.
            + fire(upTo: time, policy: policy, breachNoEarlierThan: time)
    }

    /// Warnings and breaches that fell due at or before `now`.
    private mutating func fire(upTo now: Int64, policy: SLAPolicy, breachNoEarlierThan floor: Int64 = .min) -> [MetricOutput] {
        var outputs = [MetricOutput]()
        for path in Self.paths {
            guard var clock = self[keyPath: path], clock.phase == .running, clock.due != .min else { continue }
            if !clock.warned, clock.warn <= now, now < clock.due {
                clock.warned = true
                clock.warnedDue = clock.due
                let remaining = policy.calendar(for: clock.severity)
                    .remaining(now: Date(epochSeconds: clock.warn), due: Date(epochSeconds: clock.due)).components.seconds
                outputs.append(.warning(SLAWarning(metric: clock.metric, instance: clock.number, dueAt: clock.dueAt!,
                                                   remainingSeconds: Int(remaining)),
                                        at: Date(epochSeconds: clock.warn), severity: clock.severity))
            }
            if clock.due <= now {
                clock.phase = .breached
                outputs.append(.breached(SLABreached(metric: clock.metric, instance: clock.number, plan: plan,
                                                     severity: clock.severity, dueAt: clock.dueAt!),
                                         at: Date(epochSeconds: max(clock.due, floor))))
            }
            self[keyPath: path] = clock
        }
        return outputs
    }

    // MARK: Restart

    /// Learns of an event this service published but whose state was not saved (the process
    /// died in between). The inputs after the saved state are handled again and produce the
    /// same events, in the same order; those already published are not produced twice. A
    /// published end of an instance also stands for any other end the inputs seen again might
    /// suggest (every end of an instance has the same cause): the first outcome is final.
    public mutating func observe(_ published: MetricOutput) {
        guard !settled(published.cause) else { return }
        self.published.insert(published.cause)
    }

    /// Leaves out what was published before a restart, forgetting it once seen again, and
    /// what the state has moved past without producing it again.
    private mutating func unpublished(_ outputs: [MetricOutput]) -> [MetricOutput] {
        guard !published.isEmpty else { return outputs }
        let fresh = outputs.filter { published.remove($0.cause) == nil }
        published = published.filter { !settled($0) }
        return fresh
    }

    /// Whether the state is past a cause (`metric/instance/…`): a later instance of the metric
    /// exists, or the instance has ended; nothing about it can be produced again.
    private func settled(_ cause: String) -> Bool {
        let parts = cause.split(separator: "/", maxSplits: 2)
        guard parts.count == 3, let metric = SLAMetric(rawValue: String(parts[0])), let path = Self.path(metric),
              let instance = Int(parts[1]) else { return true }
        guard let clock = self[keyPath: path] else { return false }
        return clock.instance > instance || (clock.instance == instance && !clock.isOpen)
    }
}

extension MetricClock {
    /// The instance as events carry it: absent for the resolution.
    public var number: Int? { metric == .resolution ? nil : instance }
}

/// What a further metric's clock published, and when.
public enum MetricOutput: Sendable, Equatable {
    case started(SLAStarted)
    /// A warning, the instant it stands for and the severity it was fired under.
    case warning(SLAWarning, at: Date, severity: Severity)
    case breached(SLABreached, at: Date)
    case met(SLAMet)
    case recalculated(SLARecalculated, at: Date)
    case stopped(SLAStopped, at: Date)
    case paused(SLAPaused, at: Date)
    case resumed(SLAResumed, at: Date)

    public var metric: SLAMetric {
        switch self {
        case .started(let e): e.metric
        case .warning(let e, _, _): e.metric
        case .breached(let e, _): e.metric
        case .met(let e): e.metric
        case .recalculated(let e, _): e.metric
        case .stopped(let e, _): e.metric
        case .paused(let e, _): e.metric
        case .resumed(let e, _): e.metric
        }
    }

    /// 0 for the resolution, else the cycle or period number.
    public var instance: Int {
        let number: Int? = switch self {
        case .started(let e): e.instance
        case .warning(let e, _, _): e.instance
        case .breached(let e, _): e.instance
        case .met(let e): e.instance
        case .recalculated(let e, _): e.instance
        case .stopped(let e, _): e.instance
        case .paused(let e, _): e.instance
        case .resumed(let e, _): e.instance
        }
        return number ?? 0
    }

    /// When it happened: the event's `at`.
    public var at: Date {
        switch self {
        case .started(let e): e.startedAt
        case .warning(_, let at, _), .breached(_, let at), .recalculated(_, let at), .stopped(_, let at), .paused(_, let at),
             .resumed(_, let at):
            at
        case .met(let e): e.respondedAt
        }
    }

    /// What the event id derives from: the metric, the instance and the transition, so a redo
    /// gives the same id and two instances never share one.
    public var cause: String {
        let prefix = "\(metric.rawValue)/\(instance)"
        switch self {
        case .started: return "\(prefix)/started"
        case .warning(let e, _, _): return "\(prefix)/warning/\(ISO8601.format(e.dueAt))"
        case .breached, .met, .stopped: return "\(prefix)/terminal"
        case .recalculated(let e, let at): return "\(prefix)/severity/\(e.severity.name)/\(ISO8601.format(at))"
        case .paused(_, let at): return "\(prefix)/paused/\(ISO8601.format(at))"
        case .resumed(_, let at): return "\(prefix)/resumed/\(ISO8601.format(at))"
        }
    }
}

// MARK: Changelog

extension TicketMetrics {
    private static let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))

    /// The state as one line of text (a member of the clock's changelog object):
    /// `key=value` parts separated by `;`, instants as epoch seconds.
    public var changelogText: String {
        var parts = [String]()
        if let plan { parts.append("plan=" + (plan.addingPercentEncoding(withAllowedCharacters: Self.plain) ?? "")) }
        if let severity { parts.append("sev=\(severity.name)") }
        if opened != .min { parts.append("opened=\(opened)") }
        parts.append("status=\(status.rawValue)")
        parts.append("flags=" + (answered ? "a" : "") + (resolved ? "r" : ""))
        if applied >= 0 { parts.append("at=\(applied)") }
        if lastAgent != .min { parts.append("la=\(lastAgent)") }
        if lastCustomer != .min { parts.append("lc=\(lastCustomer)") }
        for (name, clock) in [("res", resolution), ("nr", nextReply), ("pu", periodicUpdate)] {
            guard let clock else { continue }
            parts.append("\(name)=\(clock.changelogText)")
        }
        for activity in pending { parts.append("p=\(activity.changelogText)") }
        for cause in published.sorted() { parts.append("o=" + (cause.addingPercentEncoding(withAllowedCharacters: Self.plain) ?? "")) }
        return parts.joined(separator: ";")
    }

    public init(changelogText text: String) throws(ChangelogValueError) {
        self.init()
        for part in text.split(separator: ";") {
            guard let equals = part.firstIndex(of: "=") else { throw ChangelogValueError("metrics: \(part.prefix(40)) has no value") }
            let key = part[..<equals]
            let value = String(part[part.index(after: equals)...])
            func fail() -> ChangelogValueError { ChangelogValueError("metrics: unreadable \(key)=\(value.prefix(60))") }
            switch key {
            case "plan":
                guard let plan = value.removingPercentEncoding else { throw fail() }
                self.plan = plan
            case "sev":
                guard let severity = Severity(parsing: value) else { throw fail() }
                self.severity = severity
            case "opened":
                guard let opened = Int64(value) else { throw fail() }
                self.opened = opened
            case "status":
                guard let status = TicketStatus(rawValue: value) else { throw fail() }
                self.status = status
            case "flags":
                answered = value.contains("a")
                resolved = value.contains("r")
            case "at", "la", "lc":
                guard let number = Int64(value) else { throw fail() }
                switch key {
                case "at": applied = number
                case "la": lastAgent = number
                default: lastCustomer = number
                }
            case "res", "nr", "pu":
                let metric: SLAMetric = key == "res" ? .resolution : key == "nr" ? .nextReply : .periodicUpdate
                guard let clock = MetricClock(metric: metric, changelogText: value) else { throw fail() }
                switch metric {
                case .resolution: resolution = clock
                case .nextReply: nextReply = clock
                default: periodicUpdate = clock
                }
            case "o":
                guard let cause = value.removingPercentEncoding else { throw fail() }
                published.insert(cause)
            case "p":
                guard let activity = Activity(changelogText: value) else { throw fail() }
                pending.append(activity)
            default:
                throw ChangelogValueError("metrics: unknown part \(key)")
            }
        }
    }
}

extension MetricClock {
    /// `instance,phase,severity,start,due,warn,warnedDue,pausedSince,pauses,warned` (`a-b`
    /// joined by `/`; an absent instant is empty).
    var changelogText: String {
        func instant(_ value: Int64) -> String { value == .min ? "" : String(value) }
        let spans = pauses.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: "/")
        return [String(instance), phase.rawValue, severity.name, String(start), instant(due), instant(warn), instant(warnedDue),
                instant(pausedSince), spans, warned ? "1" : "0"].joined(separator: ",")
    }

    init?(metric: SLAMetric, changelogText text: String) {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 10, let instance = Int(fields[0]), let phase = Phase(rawValue: fields[1]),
              let severity = Severity(parsing: fields[2]), let start = Int64(fields[3]) else { return nil }
        func instant(_ text: String) -> Int64?? { text.isEmpty ? .some(nil) : Int64(text).map { .some($0) } }
        guard let due = instant(fields[4]), let warn = instant(fields[5]), let warnedDue = instant(fields[6]),
              let pausedSince = instant(fields[7]) else { return nil }
        self.init(metric: metric, instance: instance, severity: severity, startedAt: Date(epochSeconds: start))
        self.phase = phase
        self.due = due ?? .min
        self.warn = warn ?? .min
        self.warnedDue = warnedDue ?? .min
        warned = fields[9] == "1"
        self.pausedSince = pausedSince ?? .min
        for span in fields[8].split(separator: "/") {
            let bounds = span.split(separator: "-").compactMap { Int64($0) }
            guard bounds.count == 2, bounds[0] <= bounds[1] else { return nil }
            pauses.append(bounds[0]...bounds[1])
        }
    }
}

extension TicketMetrics.Activity {
    var changelogText: String {
        switch self {
        case .customerMessage(let at): "c,\(at.epochSeconds)"
        case .agentMessage(let at): "a,\(at.epochSeconds)"
        case .statusChanged(let status, let at): "s,\(status.rawValue),\(at.epochSeconds)"
        case .severityChanged(let severity, let at): "v,\(severity.name),\(at.epochSeconds)"
        }
    }

    init?(changelogText text: String) {
        let fields = text.split(separator: ",").map(String.init)
        guard let last = fields.last, let seconds = Int64(last) else { return nil }
        let at = Date(epochSeconds: seconds)
        switch (fields.first, fields.count) {
        case ("c"?, 2): self = .customerMessage(at: at)
        case ("a"?, 2): self = .agentMessage(at: at)
        case ("s"?, 3):
            guard let status = TicketStatus(rawValue: fields[1]) else { return nil }
            self = .statusChanged(status, at: at)
        case ("v"?, 3):
            guard let severity = Severity(parsing: fields[1]) else { return nil }
            self = .severityChanged(severity, at: at)
        default: return nil
        }
    }
}
