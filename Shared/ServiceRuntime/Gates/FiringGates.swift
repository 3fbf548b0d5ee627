import Foundation
import Logging
import MessageBus
import Metrics

/// The firing gates of every partition a stateful loop owns: shared gates (an upstream group,
/// the same for every partition) first, then each partition's own (its input read, the late-input
/// hold). Asks the broker what the gates need, in one request per kind of question, and says how
/// far each partition's timers may fire and when the loop must wake for them.
struct FiringGates {
    private var shared: [any FiringGate]
    private var owned: [Int32: [any FiringGate]] = [:]
    private let queries: any BrokerQueries
    private let logger: Logger
    private let service: String
    /// `helpdesk_timer_input_checks_total{outcome}`, one handle per outcome, made on first use.
    private var counters: [String: Counter] = [:]
    /// Whether the last question went unanswered: an outage is reported once, and its end once.
    private var failing = false

    init(shared: [any FiringGate], queries: any BrokerQueries, service: String, logger: Logger) {
        self.shared = shared
        self.queries = queries
        self.service = service
        self.logger = logger
    }

    mutating func own(_ partition: Int32, gates: [any FiringGate]) { owned[partition] = gates }

    mutating func release(_ partition: Int32) { owned[partition] = nil }

    /// An input record of `partition` read, with the event time its handling found (nil if none).
    mutating func read(_ record: ConsumerRecord, eventTime: Date?) {
        guard let count = owned[record.partition]?.count else { return }
        // In place: a copy of the partition's gates per record would cost an allocation each.
        for index in 0..<count { owned[record.partition]![index].read(record, eventTime: eventTime) }
    }

    /// Deadlines of `partition` at or before this instant may fire at `now`.
    func limit(of partition: Int32, now: Date) -> Date {
        chain(partition).reduce(now) { min($0, $1.limit(now: now)) }
    }

    /// When the loop must wake for `partition`'s `deadline`: once every gate could let it through,
    /// or nil when a gate waits for records, which wake the loop themselves.
    func wakeAt(for deadline: Date?, of partition: Int32, now: Date) -> Date? {
        guard let deadline else { return nil }
        var wake = deadline
        for gate in chain(partition) {
            guard let instant = gate.wakeAt(for: deadline, now: now) else { return nil }
            wake = max(wake, instant)
        }
        return wake
    }

    private func chain(_ partition: Int32) -> [any FiringGate] { shared + (owned[partition] ?? []) }

    /// Asks what the gates holding due deadlines need, gate by gate along the chain: a gate is
    /// asked about a deadline only once the gates before it let it through.
    mutating func check(_ deadlines: [Int32: Date], now: Date) async throws {
        var held = deadlines.filter { $0.value <= now && $0.value > limit(of: $0.key, now: now) }
        var allowed = held.mapValues { _ in now }
        var sharedAllowed = now
        let depth = shared.count + (owned.values.map(\.count).max() ?? 0)
        for stage in 0..<depth where !held.isEmpty {
            // Who at this stage has questions: nil for the shared gate, else the partition.
            var asking = [Int32?]()
            if stage < shared.count {
                if held.values.contains(where: { $0 > shared[stage].limit(now: now) }) { asking = [nil] }
            } else {
                asking = held.keys.sorted().filter { (owned[$0]?.count ?? 0) > stage - shared.count }
            }
            // A gate's answers may lead to more questions (a recount, then end offsets): a few
            // exchanges at most, each one request per kind of question.
            for _ in 0..<Self.maxExchanges where !asking.isEmpty {
                var askers = [(partition: Int32?, questions: [BrokerQuestion])]()
                for partition in asking {
                    let from = partition.map { allowed[$0]! } ?? sharedAllowed
                    if let asked = questions(of: partition, stage: stage, held: held, allowed: from, now: now) {
                        askers.append((partition, asked))
                    }
                }
                let answers = try await ask(askers.map(\.questions))
                asking = []
                for ((partition, _), answers) in zip(askers, answers) {
                    let outcome: GateOutcome
                    if let partition {
                        outcome = owned[partition]![stage - shared.count].answered(answers, allowed: allowed[partition]!, now: now)
                    } else {
                        outcome = shared[stage].answered(answers, allowed: sharedAllowed, now: now)
                    }
                    if case .asking = outcome { asking.append(partition) }
                    report(outcome)
                }
            }
            if stage < shared.count { sharedAllowed = min(sharedAllowed, shared[stage].limit(now: now)) }
            for partition in held.keys {
                let gates = chain(partition)
                if stage < gates.count { allowed[partition] = min(allowed[partition]!, gates[stage].limit(now: now)) }
            }
            held = held.filter { $0.value <= allowed[$0.key]! }
        }
    }

    static let maxExchanges = 3

    /// The questions of a stage's gate about its deadline: the shared gate's about the earliest
    /// deadline it holds, a partition's own gate's about that partition's deadline.
    private func questions(
        of partition: Int32?, stage: Int, held: [Int32: Date], allowed: Date, now: Date
    ) -> [BrokerQuestion]? {
        guard let partition else {
            let gate = shared[stage]
            guard let earliest = held.values.filter({ $0 > gate.limit(now: now) }).min() else { return nil }
            return gate.questions(for: earliest, allowed: allowed, now: now)
        }
        return owned[partition]![stage - shared.count].questions(for: held[partition]!, allowed: allowed, now: now)
    }

    /// Asks each gate's questions in order, one request per kind of question in each round. A
    /// gate's check stops at its first unanswered question: the rest get the same failure, unasked.
    private func ask(_ asking: [[BrokerQuestion]]) async throws -> [[BrokerAnswer]] {
        var answers = asking.map { _ in [BrokerAnswer]() }
        for round in 0..<(asking.map(\.count).max() ?? 0) {
            var byKind = [BrokerQuestion.Kind: [Int]]()
            for (gate, questions) in asking.enumerated() where round < questions.count {
                if let failed = answers[gate].last, case .failure = failed {
                    answers[gate].append(failed)
                } else {
                    byKind[questions[round].kind, default: []].append(gate)
                }
            }
            for (kind, gates) in byKind {
                let question = BrokerQuestion.merged(kind, gates.map { asking[$0][round] })
                let answer: BrokerAnswer
                do {
                    answer = .success(try await question.ask(queries))
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    answer = .failure(error)
                }
                for gate in gates { answers[gate].append(answer.map { $0.restricted(to: asking[gate][round].partitions) }) }
            }
        }
        return answers
    }

    private mutating func report(_ outcome: GateOutcome) {
        switch outcome {
        case .asking(let message):
            if let message { logger.info("\(message)") }
            return
        case .unanswered(let error, let what):
            count("failed")
            if !failing { logger.warning("timers wait: the broker does not say \(what)", metadata: ["error": "\(error)"]) }
            failing = true
            return
        case .passed(let label):
            count(label)
        case .waiting(let label, let message):
            count(label)
            logger.debug("\(message)")
        case .gaveUp(let label, let message):
            count(label)
            logger.warning("\(message)")
        }
        if failing {
            failing = false
            logger.info("the broker answers again; timers fire once the input is read")
        }
    }

    private mutating func count(_ outcome: String) {
        if let counter = counters[outcome] { return counter.increment() }
        let counter = Counter(label: "helpdesk_timer_input_checks_total", dimensions: [("service", service), ("outcome", outcome)])
        counters[outcome] = counter
        counter.increment()
    }
}
