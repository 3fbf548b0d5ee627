import Foundation

/// One instance of a metric beyond the first response: the resolution clock, one next-reply
/// cycle or one periodic-update period. Pure: time comes in with the inputs.
///
/// The clock counts business time (in its severity's calendar) from `startedAt`, minus the
/// intervals it was paused; the due instant is recomputed from those whenever the severity
/// changes or a pause ends, so paused time never counts and a pause never brings the due
/// instant forward.
public struct MetricClock: Sendable, Equatable {
    public enum Phase: String, Sendable, CaseIterable, Codable { case running, paused, met, breached, stopped }

    public let metric: SLAMetric
    /// 0 for `resolution`; the cycle or period number, from 1, for the others.
    public let instance: Int
    public internal(set) var phase: Phase = .running
    public internal(set) var severity: Severity
    public internal(set) var warned = false
    var start: Int64
    /// While running: when the target is reached, and when the warning goes out.
    var due: Int64 = .min
    var warn: Int64 = .min
    /// The due instant the last warning was for: a due instant recomputed back to it (a
    /// severity changed and changed back) is not warned of twice.
    var warnedDue: Int64 = .min
    /// While paused: since when.
    var pausedSince: Int64 = .min
    /// Closed pauses, in order, as whole epoch seconds.
    var pauses: [ClosedRange<Int64>] = []

    public init(metric: SLAMetric, instance: Int, severity: Severity, startedAt: Date) {
        self.metric = metric
        self.instance = instance
        self.severity = severity
        start = startedAt.epochSeconds
    }

    public var startedAt: Date { Date(epochSeconds: start) }
    public var dueAt: Date? { due == .min ? nil : Date(epochSeconds: due) }
    public var warnAt: Date? { warn == .min ? nil : Date(epochSeconds: warn) }
    public var pausedAt: Date? { pausedSince == .min ? nil : Date(epochSeconds: pausedSince) }
    public var isOpen: Bool { phase == .running || phase == .paused }
    public var pauseIntervals: [Range<Date>] {
        pauses.map { Date(epochSeconds: $0.lowerBound)..<Date(epochSeconds: $0.upperBound) }
    }

    /// The next instant at which time alone changes this clock.
    public var nextDeadline: Date? {
        guard phase == .running, due != .min else { return nil }
        return Date(epochSeconds: warned || warn == .min ? due : warn)
    }

    /// Sets the due and warning instants from the start, the pauses and `target`.
    mutating func schedule(_ target: MetricTarget, calendar: BusinessCalendar) {
        let pauses = pauseIntervals
        let dueDate = calendar.due(start: startedAt, businessDuration: target.target, pauses: pauses)
        let warnSeconds = Int64(saturating: Double(target.target.components.seconds) * target.warnAt)
        let warnDate = calendar.due(start: startedAt, businessDuration: .seconds(warnSeconds), pauses: pauses)
        due = dueDate.epochSeconds
        warn = min(warnDate, dueDate).epochSeconds
    }

    /// After a severity change: warned again only for a new due instant.
    mutating func rewarn() { warned = due == warnedDue }

    /// Business time counted from the start to `now` (pauses excluded).
    public func businessCounted(until now: Date, calendar: BusinessCalendar) -> Int64 {
        var pauses = pauseIntervals
        if let pausedAt, pausedAt < now { pauses.append(pausedAt..<now) }
        return calendar.businessElapsed(from: startedAt, to: max(now, startedAt), pauses: pauses).components.seconds
    }

    mutating func pause(at instant: Int64) {
        guard phase == .running else { return }
        phase = .paused
        pausedSince = max(instant, start)
        due = .min
        warn = .min
    }

    mutating func resume(at instant: Int64, _ target: MetricTarget, calendar: BusinessCalendar) {
        guard phase == .paused else { return }
        let end = max(instant, pausedSince)
        if end > pausedSince { pauses.append(pausedSince...end) }
        pausedSince = .min
        phase = .running
        schedule(target, calendar: calendar)
    }
}

extension Date {
    init(epochSeconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(epochSeconds)) }
}
