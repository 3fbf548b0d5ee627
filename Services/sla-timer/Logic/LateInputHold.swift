import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// How long a partition's deadlines wait for input that is running late: an event-time
/// watermark measured from the input itself.
///
/// Kafka orders records only within a partition. Intake's outputs reach `tickets.activity`
/// directly and `tickets.classified` through the classifier, each on its own schedule, so
/// after an outage intake can hand on a ticket (classified moments later) and, a little after
/// that, the reply the customer got before the deadline. A breach fired in between would be
/// wrong and final.
///
/// An input record published more than `threshold` after its event time (the envelope's `at`,
/// when intake received it) is evidence that more input of that age may follow. While such
/// late input keeps arriving, a deadline fires only once it is at least as far in the past as
/// the input is late; once no late input has been published for `threshold`, deadlines fire on
/// time again. Lateness counts for at most `maxHold`, so a backfill of old tickets delays
/// breaches by no more than that.
public struct LateInputHold: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// Input later than this is late; late input stops holding deadlines this long after it was published.
        public var threshold: Duration
        /// The most a deadline is held.
        public var maxHold: Duration

        public init(threshold: Duration, maxHold: Duration) {
            self.threshold = threshold
            self.maxHold = maxHold
        }

        public static let standard = Settings(threshold: .seconds(2), maxHold: .seconds(600))
    }

    private struct Second: Sendable, Equatable {
        let second: Int64
        var lateness: TimeInterval
    }

    let settings: Settings
    /// Per whole second of publishing, the greatest lateness of the late input published in it,
    /// oldest first.
    private var seconds: [Second] = []

    init(_ settings: Settings = .standard) {
        self.settings = settings
    }

    private var threshold: TimeInterval { settings.threshold.timeInterval }
    private var maxHold: TimeInterval { settings.maxHold.timeInterval }

    var isHolding: Bool { !seconds.isEmpty }

    /// Notes an input record. Returns whether it was late.
    @discardableResult
    mutating func read(publishedAt: Date, eventTime: Date) -> Bool {
        let lateness = publishedAt.timeIntervalSince(eventTime)
        guard lateness > threshold else { return false }
        let second = publishedAt.epochSeconds
        let capped = min(lateness, maxHold)
        if let index = seconds.lastIndex(where: { $0.second <= second }), seconds[index].second == second {
            seconds[index].lateness = max(seconds[index].lateness, capped)
        } else {
            let position = seconds.firstIndex { $0.second > second } ?? seconds.endIndex
            seconds.insert(Second(second: second, lateness: capped), at: position)
        }
        return true
    }

    /// Forgets late input that no longer holds anything at `now`.
    mutating func forget(upTo now: Date) {
        let threshold = self.threshold
        seconds.removeAll { Self.expiry(of: $0, threshold: threshold) <= now.timeIntervalSince1970 }
    }

    /// The instant up to which deadlines may fire at `now`.
    func watermark(at now: Date) -> Date {
        let alive = seconds.filter { expiry(of: $0) > now.timeIntervalSince1970 }
        return now.addingTimeInterval(-(alive.map(\.lateness).max() ?? 0))
    }

    /// The earliest instant at which a deadline due at `due` may fire, if no more late input
    /// arrives: the first moment the watermark has passed it.
    func release(of due: Date) -> Date {
        // Asked on every turn of the loop; nearly always nothing is held.
        guard !seconds.isEmpty else { return due }
        let due = due.timeIntervalSince1970
        // Late seconds stop holding in the order they were published; between two such moments
        // the hold is the greatest lateness among the seconds still holding.
        var holdFromHere = [TimeInterval](repeating: 0, count: seconds.count + 1)
        for index in seconds.indices.reversed() {
            holdFromHere[index] = max(seconds[index].lateness, holdFromHere[index + 1])
        }
        var previousExpiry = -TimeInterval.infinity
        for (index, second) in seconds.enumerated() {
            let candidate = max(due + holdFromHere[index], previousExpiry)
            if candidate < expiry(of: second) { return Date(timeIntervalSince1970: candidate) }
            previousExpiry = expiry(of: second)
        }
        return Date(timeIntervalSince1970: max(due, previousExpiry))
    }

    private func expiry(of second: Second) -> TimeInterval { Self.expiry(of: second, threshold: threshold) }

    /// When late input published in that second stops holding: the second's end plus the threshold.
    private static func expiry(of second: Second, threshold: TimeInterval) -> TimeInterval {
        TimeInterval(second.second + 1) + threshold
    }
}

/// The late-input hold as one of a partition's firing gates: deadlines fire up to the watermark.
public struct LateInputGate: FiringGate {
    private(set) var hold: LateInputHold
    let metrics: SLATimerMetrics

    public init(_ settings: LateInputHold.Settings = .standard, metrics: SLATimerMetrics) {
        hold = LateInputHold(settings)
        self.metrics = metrics
    }

    public func limit(now: Date) -> Date { hold.watermark(at: now) }

    public func wakeAt(for deadline: Date, now: Date) -> Date? { hold.release(of: deadline) }

    /// Input published more than the threshold after its event time holds deadlines.
    public mutating func read(_ record: ConsumerRecord, eventTime: Date?) {
        hold.forget(upTo: record.timestamp)
        guard let eventTime else { return }
        if hold.read(publishedAt: record.timestamp, eventTime: eventTime) { metrics.readLateInput() }
    }
}
