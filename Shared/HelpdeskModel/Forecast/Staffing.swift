import Foundation

/// Who is on shift: agents per weekday and time of day in the policy's zone, minus holidays, plus
/// live changes (a sick day, a surge of staff) reported by other systems.
public struct StaffingSchedule: Sendable {
    /// `agents` on shift from `start` to `end` (seconds of the local day) on `days`.
    public struct Shift: Sendable, Equatable {
        public var days: Set<Weekday>
        public var start: Int32
        public var end: Int32
        public var agents: Int
        public var team: String?

        public init(days: Set<Weekday>, start: Int32, end: Int32, agents: Int, team: String? = nil) {
            self.days = days
            self.start = start
            self.end = end
            self.agents = agents
            self.team = team
        }
    }

    /// A change to the schedule from a given instant (a shift started or ended off-schedule):
    /// `delta` agents from `from` until `until` (nil: until the end of that local day).
    public struct Adjustment: Sendable, Equatable {
        public var from: Date
        public var until: Date?
        public var delta: Int

        public init(from: Date, until: Date? = nil, delta: Int) {
            self.from = from
            self.until = until
            self.delta = delta
        }
    }

    public let timeZone: TimeZone
    public var shifts: [Shift]
    public var holidays: Set<LocalDate>
    public var adjustments: [Adjustment] = []
    private let zone: ZoneOffsets

    public init(timeZone identifier: String, shifts: [Shift], holidays: Set<LocalDate> = []) throws(CalendarError) {
        guard let timeZone = TimeZone(identifier: identifier) else { throw .unknownTimeZone(identifier) }
        self.timeZone = timeZone
        self.shifts = shifts
        self.holidays = holidays
        zone = ZoneOffsets(timeZone)
    }

    /// Four agents 09:00–17:00 America/Denver on weekdays: the documented default.
    public static let standard = following(.standard)

    /// Four agents whenever `calendar` is open, off on its holidays: the forecast's staffing when
    /// the policy file names none.
    public static func following(_ calendar: BusinessCalendar, agents: Int = 4) -> StaffingSchedule {
        try! StaffingSchedule(
            timeZone: calendar.timeZone.identifier,
            shifts: calendar.windows.map { Shift(days: calendar.days, start: $0.start, end: $0.end, agents: agents) },
            holidays: calendar.holidays)
    }

    /// The end of the local day `instant` falls in: where a live change without an end stops.
    public func endOfLocalDay(_ instant: Date) -> Date {
        let t = instant.epochSeconds
        return Date(epochSeconds: zone.utc(fromLocal: (floorDiv(t + zone.offset(at: t), 86_400) + 1) * 86_400))
    }

    /// Agents on shift over `[from, from + horizon)`, as steps: each the instant from which a
    /// number of agents holds, in order, the first at `from`.
    public func capacity(from: Date, horizon: Duration = .seconds(14 * 86_400)) -> CapacitySteps {
        let start = from.epochSeconds
        let end = start + horizon.components.seconds
        var changes = [(Int64, Int)]()
        // Local days overlapping the horizon, one either side for shifts crossing midnight.
        let firstDay = floorDiv(start + zone.offset(at: start), 86_400) - 1
        let lastDay = floorDiv(end + zone.offset(at: end), 86_400) + 1
        for day in firstDay...lastDay {
            let date = LocalDate(dayNumber: day)
            guard !holidays.contains(date) else { continue }
            for shift in shifts where shift.days.contains(date.weekday) && shift.agents != 0 {
                let open = zone.utc(fromLocal: day * 86_400 + Int64(shift.start))
                let close = zone.utc(fromLocal: day * 86_400 + Int64(shift.end))
                changes.append((open, shift.agents))
                changes.append((close, -shift.agents))
            }
        }
        for adjustment in adjustments {
            let from = adjustment.from.epochSeconds
            let until = (adjustment.until ?? endOfLocalDay(adjustment.from)).epochSeconds
            changes.append((from, adjustment.delta))
            changes.append((until, -adjustment.delta))
        }
        changes.sort { $0.0 < $1.0 }
        var steps = [CapacitySteps.Step]()
        var agents = 0
        var index = 0
        while index < changes.count, changes[index].0 <= start {
            agents += changes[index].1
            index += 1
        }
        steps.append(.init(from: start, agents: max(0, agents)))
        while index < changes.count, changes[index].0 < end {
            let at = changes[index].0
            while index < changes.count, changes[index].0 == at {
                agents += changes[index].1
                index += 1
            }
            if steps.last!.agents != max(0, agents) { steps.append(.init(from: at, agents: max(0, agents))) }
        }
        return CapacitySteps(steps: steps, end: end)
    }
}

/// A number of agents on shift over time, piecewise constant, up to `end`.
public struct CapacitySteps: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var from: Int64
        public var agents: Int
    }

    public let steps: [Step]
    public let end: Int64

    public init(steps: [Step], end: Int64) {
        self.steps = steps
        self.end = end
    }

    public var peak: Int { steps.map(\.agents).max() ?? 0 }

    public func agents(at instant: Date) -> Int {
        let t = instant.epochSeconds
        var low = 0, high = steps.count - 1
        guard let first = steps.first, t >= first.from else { return 0 }
        while low < high {
            let mid = (low + high + 1) / 2
            if steps[mid].from <= t { low = mid } else { high = mid - 1 }
        }
        return steps[low].agents
    }

    /// The intervals during which at least `index + 1` agents are on shift: when agent number
    /// `index` works.
    func shifts(ofAgent index: Int) -> [Range<Int64>] {
        var result = [Range<Int64>]()
        var open: Int64?
        for (position, step) in steps.enumerated() {
            let on = step.agents > index
            if on, open == nil { open = step.from }
            if !on, let start = open {
                result.append(start..<step.from)
                open = nil
            }
            if position == steps.count - 1, let start = open { result.append(start..<end) }
        }
        return result
    }

    /// The same steps with `delta` more agents (never below zero) over `range`.
    public func adding(_ delta: Int, over range: Range<Date>) -> CapacitySteps {
        let from = range.lowerBound.epochSeconds, until = range.upperBound.epochSeconds
        var points = Set(steps.map(\.from))
        points.insert(max(from, steps.first?.from ?? from))
        if until < end { points.insert(until) }
        let sorted = points.sorted().filter { $0 >= (steps.first?.from ?? $0) && $0 < end }
        var result = [Step]()
        for point in sorted {
            var agents = self.agents(at: Date(epochSeconds: point))
            if point >= from, point < until { agents = max(0, agents + delta) }
            if result.last?.agents != agents { result.append(Step(from: point, agents: agents)) }
        }
        return CapacitySteps(steps: result, end: end)
    }
}
