import Foundation
import HelpdeskModel
import MessageBus
import PropertyBased
import SLATimerService
import Testing
import TestSupport

@testable import SLATimerService

/// The watermark alone, on explicit instants (seconds since 1970 for readability).
@Suite("late input hold")
struct LateInputHoldTests {
    func instant(_ seconds: TimeInterval) -> Date { Date(timeIntervalSince1970: seconds) }

    @Test func inputWithinTheThresholdHoldsNothing() {
        var hold = LateInputHold()
        let withinThreshold = hold.read(publishedAt: instant(1_000.5), eventTime: instant(999))
        #expect(!withinThreshold, "1.5 s is within the 2 s threshold")
        let ahead = hold.read(publishedAt: instant(1_000), eventTime: instant(1_010))
        #expect(!ahead, "an event time ahead of the publisher's clock")
        #expect(!hold.isHolding)
        #expect(hold.watermark(at: instant(1_001)) == instant(1_001))
        #expect(hold.release(of: instant(990)) == instant(990))
    }

    @Test func lateInputHoldsDeadlinesByItsLatenessUntilNoneHasArrivedForTheThreshold() {
        var hold = LateInputHold()
        let late = hold.read(publishedAt: instant(100.5), eventTime: instant(70))
        #expect(late)
        #expect(hold.watermark(at: instant(100.6)) == instant(100.6 - 30.5))
        // A deadline 31 s before the late input was published is already behind it.
        #expect(hold.release(of: instant(69.5)) == instant(100))
        // Deadlines after the late input's event time wait until it has been quiet for 2 s
        // (the second it was published in, 100, ends at 101).
        #expect(hold.release(of: instant(90)) == instant(103))
        #expect(hold.watermark(at: instant(102.9)) < instant(90))
        #expect(hold.watermark(at: instant(103)) == instant(103))
        hold.forget(upTo: instant(103))
        #expect(!hold.isHolding)
    }

    @Test func aBackfillOfOldTicketsHoldsDeadlinesAtMostTheMaximum() {
        var hold = LateInputHold(.init(threshold: .seconds(2), maxHold: .seconds(60)))
        let late = hold.read(publishedAt: instant(86_400), eventTime: instant(0))
        #expect(late)
        #expect(hold.watermark(at: instant(86_400)) == instant(86_400 - 60))
        #expect(hold.release(of: instant(86_300)) == instant(86_360))
        #expect(LateInputHold.Settings.standard.maxHold == .seconds(600))
    }

    @Test func eachLateSecondStopsHoldingInTurn() {
        var hold = LateInputHold()
        hold.read(publishedAt: instant(100.2), eventTime: instant(80))  // 20.2 s late, holds until 103
        hold.read(publishedAt: instant(104.0), eventTime: instant(99))  // 5 s late, holds until 107
        hold.read(publishedAt: instant(100.9), eventTime: instant(90))  // 10.9 s late, same second as the first
        // Until 103 the hold is 20.2 s; from 103 to 107 it is 5 s; then nothing.
        #expect(hold.release(of: instant(80)) == instant(100.2))
        #expect(hold.release(of: instant(95)) == instant(103))
        #expect(hold.release(of: instant(101)) == instant(106))
        #expect(hold.release(of: instant(104)) == instant(107))
        #expect(hold.watermark(at: instant(105)) == instant(100))
        hold.forget(upTo: instant(105))
        #expect(hold.watermark(at: instant(105)) == instant(100))
        #expect(hold.watermark(at: instant(107)) == instant(107))
    }
}

/// The partition with the hold: what the 10,000-ticket broker-outage run showed.
@Suite("sla-timer partition with late input")
struct SLATimerLateInputTests {
    @Test func aClassificationPublishedAfterItsDeadlineWaitsForTheReplyBehindIt() throws {
        // The standard policy's shortest target is an hour; input that late is held in full here.
        let metrics = SLATimerMetrics()
        let driver = PartitionDriver(
            SLATimerPartition(partition: 0, policy: .standard, metrics: metrics),
            gates: [LateInputGate(.init(threshold: .seconds(2), maxHold: .seconds(7_200)), metrics: metrics)])
        let opened = at("2026-03-09T15:00:00Z")  // Monday 09:00 MDT: critical, due an hour later
        let deadline = at("2026-03-09T16:00:00Z")
        let answered = TicketInputs("CRM-ANSWERED")
        let unanswered = TicketInputs("CRM-UNANSWERED")
        // After an outage intake hands both tickets on 8 s after their deadline.
        _ = try driver.handle(answered.classified(.critical, openedAt: opened), publishedAt: deadline.addingTimeInterval(8))
        _ = try driver.handle(unanswered.classified(.critical, openedAt: opened), publishedAt: deadline.addingTimeInterval(8.2))
        #expect(driver.fire(deadline.addingTimeInterval(8.25)).isEmpty, "the deadlines wait for input still on its way")
        #expect(driver.nextWake == deadline.addingTimeInterval(11))

        // The reply the customer got at the opening arrives a moment later.
        let met = try driver.handle(answered.agentReply(at: opened), publishedAt: deadline.addingTimeInterval(8.28))
        #expect(types(met) == ["sla.events:sla.met"])
        #expect(driver.fire(deadline.addingTimeInterval(10.9)).isEmpty)

        // Quiet for 2 s: the other ticket breaches, dated by its deadline.
        let fired = driver.fire(deadline.addingTimeInterval(11))
        let breached = try #require(fired.first { $0.eventType == SLABreached.type })
        #expect(breached.envelope.ticketId == unanswered.ticketId)
        #expect(breached.envelope.at == deadline)
        #expect(driver.nextWake == nil)
    }

    @Test func inputOnTimeLeavesDeadlinesOnTime() throws {
        let metrics = SLATimerMetrics()
        let driver = PartitionDriver(SLATimerPartition(partition: 0, policy: .standard, metrics: metrics),
                                     gates: [LateInputGate(metrics: metrics)])
        let ticket = TicketInputs("CRM-1")
        let opened = at("2026-03-09T15:00:00Z")
        _ = try driver.handle(ticket.classified(.critical, openedAt: opened), publishedAt: opened.addingTimeInterval(1.5))
        #expect(driver.nextWake == at("2026-03-09T15:45:00Z"), "the warning")
        #expect(types(driver.fire(at("2026-03-09T15:45:00Z"))).first == "sla.events:sla.warning")
        #expect(types(driver.fire(at("2026-03-09T16:00:00Z"))).first == "sla.events:sla.breached")
    }
}

/// The hold alone, as a firing gate: random records on time and late, time passing. A deadline
/// passes the gate only once it is at least as far in the past as every late record still
/// holding (published less than the threshold ago, counted up to the longest hold) was late.
@Suite("late-input gate: properties")
struct LateInputGatePropertyTests {
    @Test func aDeadlinePassesOnlyOnceTheLateInputStillHoldingHasPassedIt() async {
        // Per step: how late the next record is, in tenths of a second (0 = time passes instead).
        let steps = Gen.int(in: 0...200).array(of: 1...150)
        await propertyCheck(count: 400, input: steps) { script in
            let settings = LateInputHold.Settings(threshold: .seconds(2), maxHold: .seconds(15))
            var gate = LateInputGate(settings, metrics: SLATimerMetrics())
            // Time in whole tenths of a second, so that sums are exact where the expiry is compared.
            var nowTenths = 10_000
            var now: Double { Double(nowTenths) / 10 }
            var late: [(publishedAt: Double, lateness: Double)] = []
            for (index, tenths) in script.enumerated() {
                if tenths == 0 || index % 3 == 0 {
                    nowTenths += tenths % 40
                } else {
                    let lateness = Double(tenths) / 10
                    let published = Date(timeIntervalSince1970: now)
                    gate.read(ConsumerRecord(topic: "tickets.activity", partition: 0, offset: Int64(index), key: nil, value: nil,
                                             headers: [], timestamp: published),
                              eventTime: published.addingTimeInterval(-lateness))
                    if lateness > 2 { late.append((now, min(lateness, 15))) }
                }
                let date = Date(timeIntervalSince1970: now)
                let limit = gate.limit(now: date).timeIntervalSince1970
                let holding = late.filter { now < ($0.publishedAt.rounded(.down) + 1) + 2 }
                // (Dates keep seconds since 2001: a microsecond covers the conversions.)
                #expect(limit <= now + 1e-6)
                #expect(holding.allSatisfy { limit <= now - $0.lateness + 1e-6 })
                // A deadline the gate lets through now is released no later than now.
                let deadline = Date(timeIntervalSince1970: limit)
                if let release = gate.wakeAt(for: deadline, now: date) { #expect(release <= date.addingTimeInterval(1e-6)) }
            }
        }
    }
}
