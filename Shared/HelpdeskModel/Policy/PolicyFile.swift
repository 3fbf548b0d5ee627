import Foundation
import Yams

/// A problem with the policy file, named by its key.
public struct PolicyError: Error, Equatable, CustomStringConvertible {
    public let key: String
    public let problem: String
    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }
    public var description: String { key.isEmpty ? problem : "\(key): \(problem)" }
}

extension SLAPolicy {
    /// Reads the policy YAML (DESIGN.md, docs/policy.md). Every key is optional and defaults to
    /// the standard policy; unknown keys are refused so that typos do not pass silently.
    public static func load(yaml text: String) throws(PolicyError) -> SLAPolicy {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw PolicyError(key: "", problem: "not valid YAML: \(error)")
        }
        guard let node else { return .standard }
        let root = try PolicyNode(node, key: "").mapping(allowed: [
            "timezone", "hours", "days", "holidays", "escalationAddress", "documentationForm", "severities", "calendars",
            "plans", "staffing",
        ])
        let standard = SLAPolicy.standard

        let calendar = try PolicyNode.calendar(root, key: "", base: standard.calendar)
        var calendars = [String: BusinessCalendar]()
        if let node = root["calendars"] {
            for (name, entry) in try node.entries() {
                let fields = try entry.mapping(allowed: ["timezone", "hours", "days", "holidays"])
                calendars[name] = try PolicyNode.calendar(fields, key: entry.key, base: calendar)
            }
        }
        let escalationAddress = try root["escalationAddress"]?.string() ?? standard.escalationAddress
        guard escalationAddress.contains("@"), !escalationAddress.contains(where: \.isWhitespace) else {
            throw PolicyError(key: "escalationAddress", problem: "\"\(escalationAddress)\" is not an e-mail address")
        }
        let documentationForm = try root["documentationForm"]?.string() ?? standard.documentationForm
        guard documentationForm.hasPrefix("https://") || documentationForm.hasPrefix("http://") || documentationForm.contains("@"),
            !documentationForm.contains(where: \.isWhitespace)
        else {
            throw PolicyError(key: "documentationForm", problem: "\"\(documentationForm)\" is neither an http(s) URL nor an e-mail address")
        }

        let targets = try root["severities"]?.severities(base: standard.targets, calendars: calendars) ?? standard.targets
        var plans = [String: SLAPolicy]()
        if let node = root["plans"] {
            for (name, entry) in try node.entries() {
                let fields = try entry.mapping(allowed: ["calendar", "severities"])
                var planCalendar = calendar
                if let node = fields["calendar"] { planCalendar = try node.calendarName(in: calendars, default: calendar).1 }
                plans[name] = SLAPolicy(
                    calendar: planCalendar, escalationAddress: escalationAddress, documentationForm: documentationForm,
                    targets: try fields["severities"]?.severities(base: targets, calendars: calendars) ?? targets,
                    calendars: calendars, planName: name)
            }
        }
        var policy = SLAPolicy(calendar: calendar, escalationAddress: escalationAddress, documentationForm: documentationForm,
                               targets: targets, calendars: calendars, plans: plans)
        if let node = root["staffing"] { policy.staffing = try node.staffing(calendar: calendar) }
        return policy
    }

    public static func load(file path: String) throws(PolicyError) -> SLAPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PolicyError(key: "", problem: "cannot read policy file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PolicyError(key: "", problem: "policy file \(path) is not UTF-8")
        }
        return try load(yaml: text)
    }
}

/// A YAML node with the dotted key it was found under, for error messages.
private struct PolicyNode {
    /// A calendar from `timezone`, `hours`, `days` and `holidays`, each defaulting to `base`'s.
    static func calendar(_ fields: [String: PolicyNode], key: String, base: BusinessCalendar) throws(PolicyError) -> BusinessCalendar {
        func path(_ name: String) -> String { key.isEmpty ? name : "\(key).\(name)" }
        let timezone = try fields["timezone"]?.string() ?? base.timeZone.identifier
        var windows = base.windows
        if let hours = fields["hours"] {
            let items = hours.isSequence ? try hours.sequence() : [hours]
            windows = try items.map { item throws(PolicyError) in try item.window() }
            if windows.isEmpty { throw PolicyError(key: path("hours"), problem: "needs at least one window") }
        }
        var days = base.days
        if let list = fields["days"] { days = try list.weekdays() }
        var holidays = base.holidays
        if let list = fields["holidays"] {
            holidays = []
            for item in try list.sequence() {
                let text = try item.string()
                guard let date = LocalDate(parsing: text) else {
                    throw PolicyError(key: item.key, problem: "\"\(text)\" is not a date (YYYY-MM-DD)")
                }
                holidays.insert(date)
            }
        }
        do {
            return try BusinessCalendar(timeZone: timezone, windows: windows, days: days, holidays: holidays)
        } catch {
            switch error {
            case .unknownTimeZone: throw PolicyError(key: path("timezone"), problem: error.description)
            case .overlappingWindows: throw PolicyError(key: path("hours"), problem: error.description)
            case .noOpenTime: throw PolicyError(key: path("days"), problem: error.description)
            }
        }
    }

    /// `staffing: { shifts: [{ days, hours, agents, team }] }`: agents on shift in the default
    /// calendar's zone, off on its holidays.
    func staffing(calendar: BusinessCalendar) throws(PolicyError) -> StaffingSchedule {
        let fields = try mapping(allowed: ["shifts"])
        guard let list = fields["shifts"] else { throw PolicyError(key: key, problem: "needs shifts") }
        var shifts = [StaffingSchedule.Shift]()
        for entry in try list.sequence() {
            let shift = try entry.mapping(allowed: ["days", "hours", "agents", "team"])
            guard let hours = shift["hours"], let agentsNode = shift["agents"] else {
                throw PolicyError(key: entry.key, problem: "needs hours and agents")
            }
            let window = try hours.window()
            let text = try agentsNode.string()
            guard let agents = Int(text), (1...10_000).contains(agents) else {
                throw PolicyError(key: agentsNode.key, problem: "\"\(text)\" is not a number of agents (1 to 10000)")
            }
            var days = calendar.days
            if let node = shift["days"] { days = try node.weekdays() }
            shifts.append(.init(days: days, start: window.start, end: window.end, agents: agents,
                                team: try shift["team"]?.string()))
        }
        guard !shifts.isEmpty else { throw PolicyError(key: "\(key).shifts", problem: "needs at least one shift") }
        return try! StaffingSchedule(timeZone: calendar.timeZone.identifier, shifts: shifts, holidays: calendar.holidays)
    }

    /// `severities`: each severity's entry changes `base`'s target for it.
    func severities(base: [Severity: SeverityTarget], calendars: [String: BusinessCalendar]) throws(PolicyError)
        -> [Severity: SeverityTarget]
    {
        let entries = try mapping(allowed: Set(Severity.allCases.map(\.name)))
        var targets = base
        for severity in Severity.allCases {
            guard let entry = entries[severity.name] else { continue }
            let fields = try entry.mapping(allowed: [
                "firstResponse", "warnAt", "escalateOnBreach", "notify", "calendar", "nextReply", "periodicUpdate", "resolution",
            ])
            var target = base[severity]!
            if let node = fields["firstResponse"] { target.firstResponse = try node.duration() }
            if let node = fields["warnAt"] { target.warnAt = try node.fraction() }
            if let node = fields["escalateOnBreach"] { target.escalateOnBreach = try node.bool() }
            if let node = fields["notify"] {
                (target.notifyOnWarning, target.notifyOnBreach) = try node.notify(target.notifyOnWarning, target.notifyOnBreach)
            }
            if let node = fields["calendar"] { target.calendarName = try node.calendarName(in: calendars, default: .standard).0 }
            if let node = fields["nextReply"] { target.nextReply = try node.metricTarget(.nextReply) }
            if let node = fields["periodicUpdate"] { target.periodicUpdate = try node.metricTarget(.periodicUpdate) }
            if let node = fields["resolution"] { target.resolution = try node.metricTarget(.resolution) }
            targets[severity] = target
        }
        return targets
    }

    /// A further metric's target: a mapping, or `none` (no such metric, where a base set one).
    func metricTarget(_ metric: SLAMetric) throws(PolicyError) -> MetricTarget? {
        if node.scalar != nil, try string() == "none" { return nil }
        let fields = try mapping(allowed: ["target", "warnAt", "pauses", "escalateOnBreach", "notify"])
        guard let targetNode = fields["target"] else {
            throw PolicyError(key: key, problem: "needs a target (like { target: 4h }), or none")
        }
        var target = MetricTarget(target: try targetNode.duration(), pauses: MetricTarget.defaultPauses(metric))
        if let node = fields["warnAt"] { target.warnAt = try node.fraction() }
        if let node = fields["escalateOnBreach"] { target.escalateOnBreach = try node.bool() }
        if let node = fields["pauses"] {
            target.pauses = Set(try node.sequence().map { item throws(PolicyError) -> TicketStatus in
                let name = try item.string()
                guard let status = TicketStatus(rawValue: name), !status.isResolved, status != .new else {
                    throw PolicyError(key: item.key, problem: "\"\(name)\" is not one of open|pending|onHold")
                }
                return status
            })
            if metric == .periodicUpdate, !target.pauses.isEmpty {
                // An update owed while waiting on the customer is still owed: nothing to pause.
                throw PolicyError(key: node.key, problem: "periodicUpdate does not pause")
            }
        }
        if let node = fields["notify"] {
            (target.notifyOnWarning, target.notifyOnBreach) = try node.notify(target.notifyOnWarning, target.notifyOnBreach)
        }
        return target
    }

    /// A calendar named in `calendars`, or `default`: the policy's own (`timezone`, `hours`, …).
    func calendarName(in calendars: [String: BusinessCalendar], default: BusinessCalendar) throws(PolicyError)
        -> (String?, BusinessCalendar)
    {
        let name = try string()
        if name == "default", calendars[name] == nil { return (nil, `default`) }
        guard let calendar = calendars[name] else {
            let known = (["default"] + calendars.keys.sorted()).joined(separator: ", ")
            throw PolicyError(key: key, problem: "\"\(name)\" is not a calendar (one of \(known))")
        }
        return (name, calendar)
    }

    /// `[mon, tue, …]`.
    func weekdays() throws(PolicyError) -> Set<Weekday> {
        Set(try sequence().map { item throws(PolicyError) -> Weekday in
            let name = try item.string()
            guard let day = Weekday(name: name) else {
                throw PolicyError(key: item.key, problem: "\"\(name)\" is not one of sun|mon|tue|wed|thu|fri|sat")
            }
            return day
        })
    }

    func duration() throws(PolicyError) -> Duration {
        let text = try string()
        guard let duration = DurationText.parse(text), duration > .zero else {
            throw PolicyError(key: key, problem: "\"\(text)\" is not a duration (like 1h, 30m, 90s, 1h30m)")
        }
        return duration
    }

    func fraction() throws(PolicyError) -> Double {
        let text = try string()
        guard let fraction = Double(text), fraction > 0, fraction < 1 else {
            throw PolicyError(key: key, problem: "\"\(text)\" is not a fraction between 0 and 1")
        }
        return fraction
    }

    /// A mapping's entries in the file's order, with their names.
    func entries() throws(PolicyError) -> [(String, PolicyNode)] {
        guard let mapping = node.mapping else { throw PolicyError(key: key, problem: "must be a mapping") }
        return try mapping.map { pair throws(PolicyError) in
            let name = pair.key.scalar?.string ?? ""
            guard !name.isEmpty else { throw PolicyError(key: key, problem: "names must not be empty") }
            return (name, PolicyNode(pair.value, key: key.isEmpty ? name : "\(key).\(name)"))
        }
    }
    /// `notify: { warning: [...], breach: [...] }`: each list given replaces the one passed in.
    func notify(
        _ warning: [Notification.Audience], _ breach: [Notification.Audience]
    ) throws(PolicyError) -> ([Notification.Audience], [Notification.Audience]) {
        let notify = try mapping(allowed: ["warning", "breach"])
        return (try notify["warning"]?.audiences() ?? warning, try notify["breach"]?.audiences() ?? breach)
    }

    func audiences() throws(PolicyError) -> [Notification.Audience] {
        try sequence().map { item throws(PolicyError) -> Notification.Audience in
            let name = try item.string()
            guard let audience = Notification.Audience(rawValue: name) else {
                let known = Notification.Audience.allowedValues
                throw PolicyError(key: item.key, problem: "\"\(name)\" is not one of \(known)")
            }
            return audience
        }
    }

    let node: Node
    let key: String

    init(_ node: Node, key: String) {
        self.node = node
        self.key = key
    }

    var isSequence: Bool { node.sequence != nil }

    func string() throws(PolicyError) -> String {
        guard let scalar = node.scalar else { throw PolicyError(key: key, problem: "must be a single value") }
        return scalar.string
    }

    func bool() throws(PolicyError) -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let other: throw PolicyError(key: key, problem: "\"\(other)\" is not true or false")
        }
    }

    func sequence() throws(PolicyError) -> [PolicyNode] {
        guard let sequence = node.sequence else { throw PolicyError(key: key, problem: "must be a list") }
        return sequence.enumerated().map { PolicyNode($0.element, key: "\(key)[\($0.offset)]") }
    }

    func mapping(allowed: Set<String>) throws(PolicyError) -> [String: PolicyNode] {
        guard let mapping = node.mapping else { throw PolicyError(key: key, problem: "must be a mapping") }
        var result = [String: PolicyNode]()
        for (keyNode, value) in mapping {
            let name = keyNode.scalar?.string ?? ""
            let path = key.isEmpty ? name : "\(key).\(name)"
            guard allowed.contains(name) else {
                throw PolicyError(key: path, problem: "unknown key (expected one of \(allowed.sorted().joined(separator: ", ")))")
            }
            result[name] = PolicyNode(value, key: path)
        }
        return result
    }

    func window() throws(PolicyError) -> OpeningWindow {
        let fields = try mapping(allowed: ["start", "end"])
        guard let startNode = fields["start"], let endNode = fields["end"] else {
            throw PolicyError(key: key, problem: "needs start and end (like { start: \"09:00\", end: \"17:00\" })")
        }
        func time(_ node: PolicyNode) throws(PolicyError) -> Int32 {
            let text = try node.string()
            guard let seconds = OpeningWindow.secondOfDay(text) else {
                throw PolicyError(key: node.key, problem: "\"\(text)\" is not a time of day (HH:MM, quoted)")
            }
            return seconds
        }
        let start = try time(startNode)
        let end = try time(endNode)
        guard let window = OpeningWindow(start: start, end: end), start < 86_400 else {
            throw PolicyError(key: key, problem: "start must be before end")
        }
        return window
    }
}
