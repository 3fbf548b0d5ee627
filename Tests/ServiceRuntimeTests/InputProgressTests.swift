import Foundation
import MessageBus
import PropertyBased
@testable import ServiceRuntime
import Testing

@Suite("input progress: timers fire only on complete input")
struct InputProgressTests {
    let classified = TopicPartition("tickets.classified", 3)
    let activity = TopicPartition("tickets.activity", 3)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func instant(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test func noTimerFiresBeforeACheckCoversIt() {
        let progress = InputProgress(positions: [classified: 10, activity: 4])
        #expect(progress.firingLimit(now: instant(100)) == .distantPast)
        #expect(progress.needsCheck(for: instant(50), now: instant(100)))
        #expect(!progress.needsCheck(for: instant(150), now: instant(100)), "not due yet")
        #expect(!progress.needsCheck(for: nil, now: instant(100)))
        #expect(progress.wakeAt(for: instant(150)) == instant(150))
    }

    @Test func aCheckThatFindsTheInputReadLetsTimersFireUpToItsInstant() {
        var progress = InputProgress(positions: [classified: 10, activity: 4])
        let outcome1 = progress.checked(ends: [classified: 10, activity: 4], asOf: instant(100))
        #expect(outcome1)
        #expect(progress.firingLimit(now: instant(130)) == instant(100))
        #expect(!progress.needsCheck(for: instant(90), now: instant(130)), "covered")
        #expect(progress.needsCheck(for: instant(120), now: instant(130)), "due after the check: another one")
        #expect(progress.wakeAt(for: instant(90)) == instant(90))
    }

    @Test func aCheckThatFindsUnreadInputHoldsTimersUntilItIsRead() {
        var progress = InputProgress(positions: [classified: 10, activity: 4])
        let outcome2 = progress.checked(ends: [classified: 12, activity: 4], asOf: instant(100))
        #expect(!outcome2)
        #expect(progress.isWaitingForInput)
        #expect(progress.pendingDescription == "tickets.classified[3]@12")
        #expect(progress.firingLimit(now: instant(130)) == .distantPast)
        #expect(!progress.needsCheck(for: instant(90), now: instant(130)), "the records wake the loop, not a timer")
        #expect(progress.wakeAt(for: instant(90)) == nil)

        let outcome3 = progress.read(activity, offset: 4)
        #expect(!outcome3, "another input does not complete it")
        let outcome4 = progress.read(classified, offset: 10)
        #expect(!outcome4)
        let outcome5 = progress.read(classified, offset: 11)
        #expect(outcome5)
        #expect(!progress.isWaitingForInput)
        #expect(progress.firingLimit(now: instant(130)) == instant(100))
    }

    @Test func aFailedCheckIsRetriedAfterItsInterval() {
        var progress = InputProgress(positions: [classified: 10])
        progress.checkFailed(retryAt: instant(100.5))
        #expect(progress.firingLimit(now: instant(100.2)) == .distantPast)
        #expect(!progress.needsCheck(for: instant(90), now: instant(100.2)))
        #expect(progress.wakeAt(for: instant(90)) == instant(100.5))
        #expect(progress.wakeAt(for: instant(200)) == instant(200))
        #expect(progress.needsCheck(for: instant(90), now: instant(100.5)))
        let outcome6 = progress.checked(ends: [classified: 10], asOf: instant(100.5))
        #expect(outcome6)
        #expect(progress.retryAt == nil)
        #expect(progress.firingLimit(now: instant(101)) == instant(100.5))
    }

    @Test func readThroughNeverMovesBack() {
        var progress = InputProgress(positions: [classified: 10])
        progress.checked(ends: [classified: 10], asOf: instant(100))
        progress.checked(ends: [classified: 10], asOf: instant(50))
        #expect(progress.firingLimit(now: instant(200)) == instant(100))
    }

    @Test func recordsSkippedAsReflectedCountAsRead() {
        // A partition restored with a checkpoint past its committed offset starts where the checkpoint says.
        var progress = InputProgress(positions: [:])
        let outcome7 = progress.checked(ends: [classified: 3], asOf: instant(100))
        #expect(!outcome7)
        let outcome8 = progress.read(classified, offset: 0)
        #expect(!outcome8)
        let outcome9 = progress.read(classified, offset: 1)
        #expect(!outcome9)
        let outcome10 = progress.read(classified, offset: 2)
        #expect(outcome10)
    }
}

/// Random interleavings of what happens to one partition: records published to either input,
/// records read (in order, per input), checks answered or not, time passing. Whatever the order,
/// timers never fire past a record that was published before their limit and not yet read.
@Suite("input progress: properties")
struct InputProgressPropertyTests {
    enum Step: Int, CaseIterable {
        case publishClassified, publishActivity, readClassified, readActivity, checkAnswered, checkFailed, waitASecond
    }

    @Test func timersNeverFirePastUnreadInput() async {
        let steps = Gen.int(in: 0...(Step.allCases.count - 1)).array(of: 1...300)
        await propertyCheck(count: 500, input: steps) { script in
            let inputs = [TopicPartition("tickets.classified", 0), TopicPartition("tickets.activity", 0)]
            var published: [[Double]] = [[], []]  // publish instants per input, in offset order
            var read = [0, 0]
            var now = 1_000.0
            var progress = InputProgress(positions: [:])
            for raw in script {
                switch Step(rawValue: raw)! {
                case .publishClassified, .publishActivity:
                    published[raw].append(now)
                case .readClassified, .readActivity:
                    let input = raw - 2
                    guard read[input] < published[input].count else { break }
                    _ = progress.read(inputs[input], offset: Int64(read[input]))
                    read[input] += 1
                case .checkAnswered:
                    progress.checked(
                        ends: [inputs[0]: Int64(published[0].count), inputs[1]: Int64(published[1].count)],
                        asOf: Date(timeIntervalSince1970: now))
                case .checkFailed:
                    progress.checkFailed(retryAt: Date(timeIntervalSince1970: now + 0.5))
                case .waitASecond:
                    now += 1
                }
                let limit = progress.firingLimit(now: Date(timeIntervalSince1970: now)).timeIntervalSince1970
                for input in 0..<2 {
                    let unread = published[input][read[input]...]
                    #expect(unread.allSatisfy { $0 >= limit }, "a record published at \(unread.first ?? 0) is unread at limit \(limit)")
                }
            }
            // Once everything is read, one answered check lets every due timer fire.
            for input in 0..<2 {
                while read[input] < published[input].count {
                    _ = progress.read(inputs[input], offset: Int64(read[input]))
                    read[input] += 1
                }
            }
            now += 1
            progress.checked(ends: [inputs[0]: Int64(published[0].count), inputs[1]: Int64(published[1].count)],
                             asOf: Date(timeIntervalSince1970: now))
            #expect(progress.firingLimit(now: Date(timeIntervalSince1970: now)) == Date(timeIntervalSince1970: now))
        }
    }
}
