import Foundation
import HelpdeskModel
import MessageBus

/// An upstream stage a stateful service's input passes through: the sla-timer's replies and
/// classifications come from `tickets.inbound` through intake's group.
public struct Upstream: Sendable, Equatable {
    public var topic: String
    public var group: String
    /// How often the group's commits are asked for again while it is behind.
    public var pollInterval: Duration
    /// The longest a deadline waits for the group; past it, the deadline fires on what has arrived.
    public var maxWait: Duration
    /// How long a count of the topic's partitions stands: partitions added to the topic (to run
    /// more instances of its group) are waited for once it is counted again.
    public var partitionRecount: Duration

    public init(topic: String, group: String, pollInterval: Duration = .milliseconds(10), maxWait: Duration = .seconds(600),
                partitionRecount: Duration = .seconds(60)) {
        self.topic = topic
        self.group = group
        self.pollInterval = pollInterval
        self.maxWait = maxWait
        self.partitionRecount = partitionRecount
    }
}

/// How far an upstream group has handled its topic, so that a deadline also waits for input
/// that has not reached the service's own topics yet: a reply still in `tickets.inbound`
/// because the intake that took it was killed before publishing it, or intake is down or far
/// behind. `InputProgress` alone sees only the service's own topics.
///
/// The group commits an offset only once what it published for the records before it has been
/// acknowledged. So once its commits reach the upstream topic's end offsets asked at instant T,
/// every record stored upstream before T has its outputs on the service's topics, and a check of
/// those topics asked after that covers T. Pure: the loop asks the broker and the clock.
struct UpstreamProgress: FiringGate {
    let settings: Upstream
    /// The topic's partitions, as last counted. Kafka never takes partitions away, so a count
    /// only adds to them.
    private(set) var partitions: [TopicPartition]
    /// When the partitions were last counted (or a count was last attempted).
    private var countedAt: Date
    /// Every upstream record stored before this instant has been handled, its outputs acknowledged.
    private(set) var through = Date.distantPast
    /// End offsets asked at `asOf` that the group's commits have not all reached yet.
    private var pending: (asOf: Date, ends: [TopicPartition: Int64])?
    /// The broker is not asked again before this: the next poll of a group that is behind, or a retry.
    private(set) var nextAskAt: Date?

    /// The topic had `partitionCount` partitions at `countedAt`.
    init(_ settings: Upstream, partitionCount: Int, countedAt: Date) {
        self.settings = settings
        partitions = []
        self.countedAt = countedAt
        counted(partitionCount, at: countedAt)
    }

    /// Whether to count the topic's partitions again before its end offsets are next asked.
    func recountDue(now: Date) -> Bool {
        now >= countedAt.addingTimeInterval(settings.partitionRecount.timeInterval)
    }

    /// The topic's partition count asked at `now`; nil when the broker did not say, which keeps
    /// the partitions known until the next recount.
    mutating func counted(_ count: Int?, at now: Date) {
        countedAt = now
        guard let count, count > partitions.count else { return }
        partitions = (0..<count).map { TopicPartition(settings.topic, Int32($0)) }
    }

    enum Question: Equatable {
        /// The topic's end offsets now, then the group's commits.
        case endsAndCommits
        /// The group's commits, against the pending end offsets.
        case commits
    }

    enum Answer: Equatable {
        /// The group has handled everything stored before the instant asked about.
        case caughtUp
        /// These partitions' commits are still short of the end offsets.
        case behind([TopicPartition: Int64])
        /// The group stayed behind for longer than `maxWait`; the deadline no longer waits for it.
        case gaveUp([TopicPartition: Int64])
    }

    var isWaiting: Bool { pending != nil }

    /// What to ask the broker now so that `deadline` can fire, or nil: covered, not due, or not yet time to ask.
    func question(for deadline: Date, now: Date) -> Question? {
        guard deadline <= now, deadline > through else { return nil }
        if let nextAskAt, nextAskAt > now { return nil }
        return pending == nil ? .endsAndCommits : .commits
    }

    /// When the loop must wake for a deadline this does not cover yet.
    func wakeAt(for deadline: Date) -> Date { max(deadline, nextAskAt ?? deadline) }

    /// The instant a check of the service's own topics, asked `now` (after this was last brought
    /// up to date), covers: no later than the upstream has been seen handled.
    func covered(asOf now: Date) -> Date { min(now, through) }

    /// The topic's end offsets asked at `asOf`, and the group's commits asked after them.
    mutating func checked(ends: [TopicPartition: Int64], committed: [TopicPartition: Int64], asOf: Date) -> Answer {
        pending = (asOf, ends)
        return polled(committed: committed, now: asOf)
    }

    /// The group's commits asked `now`, against the pending check. A group that never committed
    /// a partition has handled none of it.
    mutating func polled(committed: [TopicPartition: Int64], now: Date) -> Answer {
        guard let check = pending else { return .caughtUp }
        let behind = check.ends.filter { (committed[$0.key] ?? 0) < $0.value }
        if behind.isEmpty {
            complete(asOf: check.asOf)
            return .caughtUp
        }
        if now >= check.asOf.addingTimeInterval(settings.maxWait.timeInterval) {
            complete(asOf: check.asOf)
            return .gaveUp(behind)
        }
        pending = (check.asOf, behind)
        nextAskAt = now.addingTimeInterval(settings.pollInterval.timeInterval)
        return .behind(behind)
    }

    /// The broker did not answer: ask again at `retryAt`.
    mutating func failed(retryAt: Date) {
        nextAskAt = retryAt
    }

    private mutating func complete(asOf: Date) {
        through = max(through, asOf)
        pending = nil
        nextAskAt = nil
    }
}

// MARK: FiringGate: the upstream completeness gate.

extension UpstreamProgress {
    func limit(now: Date) -> Date { covered(asOf: now) }

    func wakeAt(for deadline: Date, now: Date) -> Date? {
        deadline <= through ? deadline : wakeAt(for: deadline)
    }

    /// The topic's partition count when a recount is due (then the rest); its end offsets and
    /// the group's commits; or the commits alone while the group is behind a pending check.
    func questions(for deadline: Date, allowed: Date, now: Date) -> [BrokerQuestion]? {
        guard deadline <= allowed, let question = question(for: deadline, now: now) else { return nil }
        let commits = BrokerQuestion.committed(partitions, group: settings.group)
        switch question {
        case .commits: return [commits]
        case .endsAndCommits:
            return recountDue(now: now) ? [.partitionCount(topic: settings.topic)] : [.endOffsets(partitions), commits]
        }
    }

    /// The answers to the questions asked (nothing has changed since): a count, the end offsets
    /// and the commits, or the commits alone.
    mutating func answered(_ answers: [BrokerAnswer], allowed: Date, now: Date) -> GateOutcome {
        let group = settings.group
        if pending == nil, recountDue(now: now) {
            // A count the broker does not give holds no timer: the partitions known stand until
            // the next recount, and the end offsets asked next meet the same broker.
            let before = partitions.count
            counted(try? answers[0].count(), at: now)
            return partitions.count > before
                ? .asking(message: "\(settings.topic) has \(partitions.count) partitions now; timers wait for \(group) on all of them")
                : .asking(message: nil)
        }
        let answer: Answer
        do {
            answer = answers.count == 2
                ? checked(ends: try answers[0].offsets(), committed: try answers[1].offsets(), asOf: now)
                : polled(committed: try answers[0].offsets(), now: now)
        } catch {
            failed(retryAt: now.addingTimeInterval(InputProgress.retryInterval))
            return .unanswered(error, what: "how far \(group) has got")
        }
        switch answer {
        case .caughtUp: return .passed(label: "upstream_caught_up")
        case .behind(let partitions):
            return .waiting(label: "upstream_behind", message: "timers wait for \(group) until \(Self.describe(partitions))")
        case .gaveUp(let partitions):
            return .gaveUp(label: "upstream_gave_up", message: "timers stop waiting for \(group): still behind "
                + "\(Self.describe(partitions)) after the longest wait (\(settings.maxWait))")
        }
    }

    static func describe(_ ends: [TopicPartition: Int64]) -> String {
        ends.map { "\($0.key)@\($0.value)" }.sorted().joined(separator: ", ")
    }
}
