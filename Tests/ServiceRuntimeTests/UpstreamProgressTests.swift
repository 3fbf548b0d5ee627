import Foundation
import MessageBus
import PropertyBased
@testable import ServiceRuntime
import Testing

@Suite("upstream progress: deadlines wait for input still upstream")
struct UpstreamProgressTests {
    let inbound = (0..<2).map { TopicPartition("tickets.inbound", Int32($0)) }
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let settings = Upstream(topic: "tickets.inbound", group: "intake", pollInterval: .milliseconds(10), maxWait: .seconds(60))

    func instant(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }
    func counted() -> UpstreamProgress { UpstreamProgress(settings, partitionCount: 2, countedAt: t0) }

    @Test func aDueDeadlineAsksForTheEndsAndCommitsFirst() {
        let upstream = counted()
        #expect(upstream.through == .distantPast)
        #expect(upstream.question(for: instant(50), now: instant(100)) == .endsAndCommits)
        #expect(upstream.question(for: instant(150), now: instant(100)) == nil, "not due yet")
        #expect(upstream.wakeAt(for: instant(150)) == instant(150))
        #expect(upstream.covered(asOf: instant(100)) == .distantPast)
    }

    @Test func aGroupThatHasCommittedEverythingCoversTheInstantAsked() {
        var upstream = counted()
        let answer = upstream.checked(ends: [inbound[0]: 7, inbound[1]: 0], committed: [inbound[0]: 7], asOf: instant(100))
        #expect(answer == .caughtUp, "a partition without records needs no commit")
        #expect(upstream.through == instant(100))
        #expect(upstream.question(for: instant(90), now: instant(130)) == nil, "covered")
        #expect(upstream.question(for: instant(120), now: instant(130)) == .endsAndCommits, "due after it: asked anew")
        #expect(upstream.covered(asOf: instant(130)) == instant(100))
        #expect(upstream.covered(asOf: instant(80)) == instant(80))
    }

    @Test func aGroupBehindIsAskedForItsCommitsAgainAfterThePollInterval() {
        var upstream = counted()
        let first = upstream.checked(ends: [inbound[0]: 7, inbound[1]: 3], committed: [inbound[0]: 5, inbound[1]: 3], asOf: instant(100))
        #expect(first == .behind([inbound[0]: 7]))
        #expect(upstream.isWaiting)
        #expect(upstream.through == .distantPast)
        #expect(upstream.question(for: instant(90), now: instant(100.005)) == nil)
        #expect(upstream.wakeAt(for: instant(90)) == instant(100.01))
        #expect(upstream.question(for: instant(90), now: instant(100.01)) == .commits)

        let second = upstream.polled(committed: [inbound[0]: 6, inbound[1]: 3], now: instant(100.01))
        #expect(second == .behind([inbound[0]: 7]))
        #expect(upstream.wakeAt(for: instant(90)) == instant(100.02))
        // Records stored after the check do not hold it: only the ends asked at 100 count.
        let third = upstream.polled(committed: [inbound[0]: 7, inbound[1]: 3], now: instant(100.02))
        #expect(third == .caughtUp)
        #expect(!upstream.isWaiting)
        #expect(upstream.through == instant(100), "covers the instant the ends were asked, not the poll's")
        #expect(upstream.question(for: instant(90), now: instant(100.02)) == nil)
    }

    @Test func aGroupThatNeverCommittedHasHandledNothing() {
        var upstream = counted()
        #expect(upstream.checked(ends: [inbound[0]: 1], committed: [:], asOf: instant(100)) == .behind([inbound[0]: 1]))
        var empty = counted()
        #expect(empty.checked(ends: [inbound[0]: 0, inbound[1]: 0], committed: [:], asOf: instant(100)) == .caughtUp)
    }

    @Test func aGroupBehindForTheLongestWaitIsNoLongerWaitedFor() {
        var upstream = counted()
        _ = upstream.checked(ends: [inbound[0]: 7], committed: [:], asOf: instant(100))
        #expect(upstream.polled(committed: [:], now: instant(159.99)) == .behind([inbound[0]: 7]))
        #expect(upstream.polled(committed: [:], now: instant(160)) == .gaveUp([inbound[0]: 7]))
        #expect(upstream.through == instant(100))
        #expect(!upstream.isWaiting)
    }

    @Test func aBrokerThatDoesNotAnswerIsAskedAgainAtTheRetry() {
        var upstream = counted()
        upstream.failed(retryAt: instant(100.5))
        #expect(upstream.question(for: instant(90), now: instant(100.2)) == nil)
        #expect(upstream.wakeAt(for: instant(90)) == instant(100.5))
        #expect(upstream.question(for: instant(90), now: instant(100.5)) == .endsAndCommits)
        _ = upstream.checked(ends: [inbound[0]: 2], committed: [inbound[0]: 1], asOf: instant(100.5))
        upstream.failed(retryAt: instant(101))
        #expect(upstream.question(for: instant(90), now: instant(101)) == .commits, "the pending check survives a failed poll")
    }

    @Test func theTopicIsCountedAgainOnceTheCountIsAMinuteOld() {
        var upstream = counted()
        #expect(upstream.partitions == inbound)
        #expect(!upstream.recountDue(now: instant(59.99)))
        #expect(upstream.recountDue(now: instant(60)))
        upstream.counted(3, at: instant(60))
        #expect(upstream.partitions == inbound + [TopicPartition("tickets.inbound", 2)], "a partition added to the topic")
        #expect(!upstream.recountDue(now: instant(60)))
        upstream.counted(nil, at: instant(120))
        #expect(upstream.partitions.count == 3, "a count the broker did not give keeps the partitions known")
        #expect(!upstream.recountDue(now: instant(179.99)), "and is tried again a minute later, not at once")
        #expect(upstream.recountDue(now: instant(180)))
        upstream.counted(1, at: instant(180))
        #expect(upstream.partitions.count == 3, "Kafka never takes partitions away")
    }

    @Test func throughNeverMovesBack() {
        var upstream = counted()
        _ = upstream.checked(ends: [:], committed: [:], asOf: instant(100))
        _ = upstream.checked(ends: [:], committed: [:], asOf: instant(50))
        #expect(upstream.through == instant(100))
    }
}

/// Random interleavings of an upstream stage and one partition of the service behind it:
/// records published upstream and handed on by the upstream group (published to the service's
/// input, committed afterwards), records published straight to the input, reads, checks
/// answered or not, time passing. The loop's order is kept: the upstream is asked first, the
/// service's own input checked after it, covering no later than the upstream. Whatever the
/// order, timers never fire past a record published before their limit, upstream or not, whose
/// effect on the input has not been read.
@Suite("upstream progress: properties")
struct UpstreamProgressPropertyTests {
    enum Step: Int, CaseIterable {
        case publishUpstream, upstreamHandsOn, upstreamCommits, publishInput, readInput, askUpstream, askUpstreamFails,
            checkInput, checkInputFails, waitASecond
    }

    @Test func timersNeverFirePastInputStillUpstreamOrUnread() async {
        let steps = Gen.int(in: 0...(Step.allCases.count - 1)).array(of: 1...300)
        await propertyCheck(count: 500, input: steps) { script in
            let upstreamTopic = TopicPartition("tickets.inbound", 0)
            let input = TopicPartition("tickets.activity", 0)
            var upstreamPublished: [Double] = []  // publish instants, in offset order
            var handedOn = 0  // upstream records the group has published to the input
            var committed = 0
            var inputOrigins: [Double] = []  // per input record: when it, or its upstream record, was published
            var read = 0
            var now = 1_000.0
            var date: Date { Date(timeIntervalSince1970: now) }
            // Longer than any script runs: giving up is the one allowed exception, tested on its own.
            var upstream = UpstreamProgress(Upstream(topic: "tickets.inbound", group: "intake", maxWait: .seconds(1_000_000)),
                                            partitionCount: 1, countedAt: date)
            var progress = InputProgress(positions: [:])
            for raw in script {
                switch Step(rawValue: raw)! {
                case .publishUpstream:
                    upstreamPublished.append(now)
                case .upstreamHandsOn:
                    guard handedOn < upstreamPublished.count else { break }
                    inputOrigins.append(upstreamPublished[handedOn])
                    handedOn += 1
                case .upstreamCommits:
                    committed = handedOn
                case .publishInput:
                    inputOrigins.append(now)
                case .readInput:
                    guard read < inputOrigins.count else { break }
                    _ = progress.read(input, offset: Int64(read))
                    read += 1
                case .askUpstream:
                    switch upstream.question(for: date, now: date) {
                    case .endsAndCommits:
                        _ = upstream.checked(ends: [upstreamTopic: Int64(upstreamPublished.count)],
                                             committed: [upstreamTopic: Int64(committed)], asOf: date)
                    case .commits:
                        _ = upstream.polled(committed: [upstreamTopic: Int64(committed)], now: date)
                    case nil:
                        break
                    }
                case .askUpstreamFails:
                    upstream.failed(retryAt: date.addingTimeInterval(0.5))
                case .checkInput:
                    progress.checked(ends: [input: Int64(inputOrigins.count)], asOf: upstream.covered(asOf: date))
                case .checkInputFails:
                    progress.checkFailed(retryAt: date.addingTimeInterval(0.5))
                case .waitASecond:
                    now += 1
                }
                let limit = progress.firingLimit(now: date).timeIntervalSince1970
                let unread = inputOrigins[read...] + upstreamPublished[handedOn...]
                #expect(unread.allSatisfy { $0 >= limit }, "a record published at \(unread.min() ?? 0) is unread at limit \(limit)")
            }
        }
    }
}
