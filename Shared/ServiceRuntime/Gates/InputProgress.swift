import Foundation
import MessageBus

/// How far one owned partition's input is known to have been read, so that its timers fire
/// only on complete input: a breach fired while a reply sent before the deadline is still
/// unread would be wrong, and final.
///
/// A deadline may fire once every input record published before it has been handled. That
/// is known from a check: the inputs' end offsets, asked of the broker at an instant, and the
/// records handled up to them. A deadline no check covers waits: for input that was waiting
/// when the partition was assigned, for a consumer that lags, and while the broker cannot be
/// reached, when no check can be made at all. Pure: the loop asks the broker and the clock.
struct InputProgress: FiringGate {
    /// Every input record published before this instant has been handled.
    private(set) var readThrough = Date.distantPast
    /// The next offset to handle, per input partition.
    private var positions: [TopicPartition: Int64]
    /// A check whose end offsets some input has not reached yet.
    private var pending: (asOf: Date, ends: [TopicPartition: Int64])?
    /// After a check failed, the next is not made before this.
    private(set) var retryAt: Date?

    /// The partition's input partitions, whose end offsets a check asks for.
    let partitions: [TopicPartition]

    init(positions: [TopicPartition: Int64]) {
        self.positions = positions
        partitions = positions.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    var isWaitingForInput: Bool { pending != nil }

    /// The input still to be read for the pending check, as `topic[partition]@end`.
    var pendingDescription: String {
        (pending?.ends ?? [:]).map { "\($0.key)@\($0.value)" }.sorted().joined(separator: ", ")
    }

    /// Whether a check must be made now so that `deadline` can fire.
    func needsCheck(for deadline: Date?, now: Date) -> Bool {
        guard let deadline, deadline <= now, deadline > readThrough, pending == nil else { return false }
        return retryAt.map { $0 <= now } ?? true
    }

    /// When the loop must wake for `deadline`: nil while it waits for input, which wakes it anyway.
    func wakeAt(for deadline: Date?) -> Date? {
        guard let deadline else { return nil }
        if deadline <= readThrough { return deadline }
        if pending != nil { return nil }
        return max(deadline, retryAt ?? deadline)
    }

    /// Timers may fire up to this instant now.
    func firingLimit(now: Date) -> Date { min(now, readThrough) }

    /// The broker's end offsets, asked at `asOf`. Returns whether the input had been read up to them.
    @discardableResult
    mutating func checked(ends: [TopicPartition: Int64], asOf: Date) -> Bool {
        retryAt = nil
        let unread = ends.filter { (positions[$0.key] ?? 0) < $0.value }
        guard unread.isEmpty else {
            pending = (asOf, unread)
            return false
        }
        complete(asOf: asOf)
        return true
    }

    /// The broker did not answer: nothing is known beyond what was, until a later check.
    mutating func checkFailed(retryAt: Date) {
        self.retryAt = retryAt
    }

    /// Notes a record handled (or skipped as already reflected); returns whether it completed the pending check.
    mutating func read(_ partition: TopicPartition, offset: Int64) -> Bool {
        positions[partition] = max(positions[partition] ?? 0, offset + 1)
        guard var check = pending, let end = check.ends[partition], offset + 1 >= end else { return false }
        check.ends[partition] = nil
        guard check.ends.isEmpty else {
            pending = check
            return false
        }
        complete(asOf: check.asOf)
        return true
    }

    private mutating func complete(asOf: Date) {
        readThrough = max(readThrough, asOf)
        pending = nil
    }
}

// MARK: FiringGate: the own-input completeness gate.

extension InputProgress {
    /// After the broker did not answer, the next check waits this long.
    static let retryInterval: TimeInterval = 0.5

    func limit(now: Date) -> Date { firingLimit(now: now) }

    func wakeAt(for deadline: Date, now: Date) -> Date? { wakeAt(for: deadline) }

    /// The end offsets of the partition's inputs. The check covers `allowed`: what the gates
    /// before this one let through, asked before these end offsets.
    func questions(for deadline: Date, allowed: Date, now: Date) -> [BrokerQuestion]? {
        guard deadline <= allowed, needsCheck(for: deadline, now: now) else { return nil }
        return [.endOffsets(partitions)]
    }

    mutating func answered(_ answers: [BrokerAnswer], allowed: Date, now: Date) -> GateOutcome {
        let ends: [TopicPartition: Int64]
        do {
            ends = try answers[0].offsets()
        } catch {
            checkFailed(retryAt: now.addingTimeInterval(Self.retryInterval))
            return .unanswered(error, what: "how far the input goes")
        }
        if checked(ends: ends, asOf: allowed) { return .passed(label: "read") }
        return .waiting(label: "behind", message: "timers wait for the input until \(pendingDescription)")
    }

    mutating func read(_ record: ConsumerRecord, eventTime: Date?) {
        _ = read(record.topicPartition, offset: record.offset)
    }
}
