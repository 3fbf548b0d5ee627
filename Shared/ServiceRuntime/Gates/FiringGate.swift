import Foundation
import MessageBus

/// One reason a partition's timers may not fire yet, and what would lift it: "how far may this
/// partition's timers fire?" is answered by a chain of gates, each knowing one thing (its own
/// input read, an upstream group caught up, late input passed). Pure: a gate never talks to the
/// broker or reads the clock. It says which questions it needs asked (`questions`), and the loop's
/// `FiringGates` asks them of `BrokerQueries` and hands the answers back.
///
/// Gates are chained: a gate is asked about a deadline only once the gates before it let it
/// through, and `allowed` (how far they let timers fire) is the instant its check covers. A new
/// reason to hold timers is a new gate, not a new branch in the loop.
public protocol FiringGate: Sendable {
    /// Deadlines at or before this instant may fire at `now`, as far as this gate knows.
    func limit(now: Date) -> Date
    /// When the loop must wake so that `deadline` may pass this gate, if nothing else happens:
    /// `deadline` itself when the gate lets it through, nil when only input (a record) can release it.
    func wakeAt(for deadline: Date, now: Date) -> Date?
    /// The broker questions to ask now so that `deadline` may pass, in order; nil when there is
    /// nothing to ask (covered, not due, or not yet time to ask again).
    func questions(for deadline: Date, allowed: Date, now: Date) -> [BrokerQuestion]?
    /// The answers to this gate's questions, in their order, asked at `now`. A check stops at its
    /// first unanswered question: the questions after it get the same failure, unasked.
    mutating func answered(_ answers: [BrokerAnswer], allowed: Date, now: Date) -> GateOutcome
    /// An input record of the partition was read (or skipped as already reflected). `eventTime`
    /// is the instant its handling found in it, nil when it was not handled.
    mutating func read(_ record: ConsumerRecord, eventTime: Date?)
}

extension FiringGate {
    public func questions(for deadline: Date, allowed: Date, now: Date) -> [BrokerQuestion]? { nil }
    public mutating func answered(_ answers: [BrokerAnswer], allowed: Date, now: Date) -> GateOutcome { .passed(label: "passed") }
    public mutating func read(_ record: ConsumerRecord, eventTime: Date?) {}
}

/// A question about the cluster, asked of `BrokerQueries` now.
public enum BrokerQuestion: Hashable, Sendable {
    case endOffsets([TopicPartition])
    case committed([TopicPartition], group: String)
    case partitionCount(topic: String)

    /// Questions of one kind that one request can answer together.
    var kind: Kind {
        switch self {
        case .endOffsets: .endOffsets
        case .committed(_, let group): .committed(group)
        case .partitionCount(let topic): .partitionCount(topic)
        }
    }

    enum Kind: Hashable { case endOffsets, committed(String), partitionCount(String) }

    var partitions: [TopicPartition] {
        switch self {
        case .endOffsets(let partitions), .committed(let partitions, _): partitions
        case .partitionCount: []
        }
    }

    /// One request for every question of a kind.
    static func merged(_ kind: Kind, _ questions: [BrokerQuestion]) -> BrokerQuestion {
        var seen = Set<TopicPartition>()
        let partitions = questions.flatMap(\.partitions).filter { seen.insert($0).inserted }
        switch kind {
        case .endOffsets: return .endOffsets(partitions)
        case .committed(let group): return .committed(partitions, group: group)
        case .partitionCount(let topic): return .partitionCount(topic: topic)
        }
    }

    func ask(_ queries: any BrokerQueries) async throws -> BrokerReply {
        switch self {
        case .endOffsets(let partitions): .offsets(try await queries.endOffsets(of: partitions))
        case .committed(let partitions, let group): .offsets(try await queries.committed(partitions, ofGroup: group))
        case .partitionCount(let topic): .count(try await queries.partitionCount(of: topic))
        }
    }
}

/// The answer to one `BrokerQuestion`, or why there is none (the broker did not answer in time).
public typealias BrokerAnswer = Result<BrokerReply, any Error>

/// What the broker said.
public enum BrokerReply: Sendable {
    case offsets([TopicPartition: Int64])
    case count(Int)

    /// Offsets for some partitions only: a merged answer handed to one gate.
    func restricted(to partitions: [TopicPartition]) -> Self {
        guard case .offsets(let offsets) = self else { return self }
        let wanted = Set(partitions)
        return .offsets(offsets.filter { wanted.contains($0.key) })
    }
}

extension Result where Success == BrokerReply {
    /// The offsets answered, or the error; a count where offsets were asked is a programming error.
    public func offsets() throws -> [TopicPartition: Int64] {
        switch try get() {
        case .offsets(let offsets): return offsets
        case .count: preconditionFailure("offsets asked, a count answered")
        }
    }

    public func count() throws -> Int {
        switch try get() {
        case .count(let count): return count
        case .offsets: preconditionFailure("a count asked, offsets answered")
        }
    }
}

/// What a check told a gate. `label` is the `outcome` of `helpdesk_timer_input_checks_total`.
public enum GateOutcome: Sendable {
    /// The deadline may pass this gate now.
    case passed(label: String)
    /// It waits (for input to be read, for another group), as `message` says; logged at debug.
    case waiting(label: String, message: String)
    /// It stopped waiting for something that did not come in time; logged as a warning.
    case gaveUp(label: String, message: String)
    /// The broker did not answer `what`: timers wait, and the question is asked again later.
    case unanswered(any Error, what: String)
    /// The answers lead to more questions, asked at once (a recount before end offsets); the
    /// message, if any, is logged as information.
    case asking(message: String?)
}
