import Foundation
import HelpdeskModel
import PropertyBased
import Testing
import TestSupport

/// The ticket row is a function of the events, not of the order the topics are read in: each
/// topic's records of a ticket come in order, but topics interleave however the consumer
/// polls them.
@Suite("history: the ticket fold")
struct TicketFoldPropertyTests {
    /// Every topic's events of one ticket with a full life: received, classified, clock started,
    /// warned, breached, answered late, re-prioritized, assigned, escalated with conditions, a
    /// notification delivered, and the forecaster's word (expected, at risk twice).
    static func topicsOfOneTicket() -> [[HistoryEvent]] {
        var ticket = TicketEvents("P-1")
        let opened = at("2026-11-02T16:00:00Z")
        let due = opened.addingTimeInterval(3_600)
        let delivery = NotificationDelivery(notificationId: EventID(rawValue: "n-1"), audience: .supportLead, kind: .slaBreached,
                                            channel: .email, route: "leads", recipient: "lead@support.example", attempts: 1)
        return [
            [ticket.received(at: opened)],
            [ticket.classified(.critical, openedAt: opened, at: opened.addingTimeInterval(2))],
            [ticket.started(.critical, at: opened, due: due),
             ticket.event(SLAWarning(dueAt: due, remainingSeconds: 900), at: due.addingTimeInterval(-900), on: Topics.slaEvents),
             ticket.breached(.critical, due: due),
             ticket.lateResponse(at: due.addingTimeInterval(300), due: due, late: 300, used: 3_900)],
            [ticket.severityChanged(.major, by: "sam", at: opened.addingTimeInterval(60)),
             ticket.event(TicketAssigned(assignee: "bo", assignedBy: nil, assignedAt: opened), at: opened, on: Topics.activity),
             ticket.status(.open, at: opened.addingTimeInterval(70))],
            [ticket.event(EscalationRequested(by: "system", via: .slaBreach), at: due, on: Topics.escalationEvents),
             ticket.event(EscalationEvaluating(engineer: "eve", by: "sam"), at: due, on: Topics.escalationEvents),
             ticket.event(EscalationEscalated(by: "eve"), at: due, on: Topics.escalationEvents),
             ticket.event(EscalationConditionRecorded(condition: .troubleshootingVerified, by: "eve", note: nil), at: due,
                          on: Topics.escalationEvents),
             ticket.event(EscalationDeEscalationRefused(by: "eve", missing: [.actionPlanConfirmed, .partiesAgreed]), at: due,
                          on: Topics.escalationEvents)],
            [ticket.event(NotificationDelivered(delivery, latencyMs: 40, deliveredAt: due), at: due, on: Topics.notificationsDelivered)],
            [ticket.expected(.critical, at: opened, expected: due.addingTimeInterval(600), due: due, told: true),
             ticket.atRisk(.critical, episode: 1, at: opened, expected: due.addingTimeInterval(600), due: due),
             ticket.atRiskCleared(.critical, episode: 1, at: opened.addingTimeInterval(600), expected: due, due: due),
             ticket.atRisk(.critical, episode: 2, at: opened.addingTimeInterval(900), expected: due.addingTimeInterval(900), due: due)],
        ]
    }

    static func fold(_ events: [HistoryEvent]) -> TicketRecord {
        var row = TicketRecord(ticketId: events[0].ticketId, source: "crm", externalId: "P-1")
        for event in events { row.apply(event.fact, at: event.at) }
        return row
    }

    /// Interleaves the topics: each choice takes the next event of one topic still holding some.
    static func interleave(_ topics: [[HistoryEvent]], choices: [Int]) -> [HistoryEvent] {
        var queues = topics
        var result = [HistoryEvent]()
        var choice = choices.makeIterator()
        while queues.contains(where: { !$0.isEmpty }) {
            let open = queues.indices.filter { !queues[$0].isEmpty }
            let pick = open[(choice.next() ?? 0) % open.count]
            result.append(queues[pick].removeFirst())
        }
        return result
    }

    @Test func anyInterleavingOfTheTopicsFoldsToTheSameRow() async {
        let topics = Self.topicsOfOneTicket()
        let expected = Self.fold(topics.flatMap { $0 })
        #expect(expected.severity == .major && expected.severitySetBy == "sam" && expected.clock == .breached)
        #expect(expected.escalation == .escalated && expected.conditions == [.troubleshootingVerified])
        #expect(expected.customerTold && expected.atRiskEpisodes == 2 && expected.atRisk && !expected.isAtRisk)
        await propertyCheck(count: 300, input: Gen.int(in: 0...1_000).array(of: 24...24)) { choices in
            #expect(Self.fold(Self.interleave(topics, choices: choices)) == expected)
        }
    }

    /// Intake sends a ticket again (a second "opened" message, without the requester this
    /// time), and the classifier classifies it again: two topics that both carry the requester,
    /// the reported severity and the assignee.
    @Test func aTicketReceivedAndClassifiedTwiceFoldsTheSameWayInEveryOrder() async {
        var ticket = TicketEvents("P-4")
        let opened = at("2026-11-02T16:00:00Z")
        let again = opened.addingTimeInterval(300)
        func classified(_ email: String?, at time: Date) -> HistoryEvent {
            ticket.event(TicketClassified(severity: .major, signals: [], confidence: 0.5, reportedSeverity: email == nil ? nil : .minor,
                                          disagreesWithReporter: false, needsDedicatedContact: false, openedAt: opened,
                                          assignee: email == nil ? nil : "ana", requesterEmail: email),
                         at: time, on: Topics.classified)
        }
        let topics = [
            [ticket.received(at: opened),
             ticket.event(TicketReceived(organizationId: "acme", subject: "VPN down again", description: nil, requester: nil,
                                         reportedSeverity: nil, impact: nil, category: nil, openedAt: again, receivedAt: again),
                          at: again, on: Topics.received)],
            [classified("pat@acme.example", at: opened), classified(nil, at: again)],
        ]
        let expected = Self.fold(topics.flatMap { $0 })
        #expect(expected.requesterEmail == "pat@acme.example" && expected.reportedSeverity == .major && expected.assignee == "ana@support.example")
        #expect(expected.subject == "VPN down again" && expected.openedAt == opened)
        await propertyCheck(count: 100, input: Gen.int(in: 0...1_000).array(of: 4...4)) { choices in
            #expect(Self.fold(Self.interleave(topics, choices: choices)) == expected)
        }
    }

    @Test func aNewEscalationRoundStartsWithoutTheLastRoundsConditions() {
        var ticket = TicketEvents("P-2")
        let time = at("2026-11-02T16:00:00Z")
        let events = [
            ticket.event(EscalationRequested(by: "pat", via: .api), at: time, on: Topics.escalationEvents),
            ticket.event(EscalationConditionRecorded(condition: .partiesAgreed, by: "eve", note: nil), at: time, on: Topics.escalationEvents),
            ticket.event(EscalationDeEscalated(by: "eve"), at: time, on: Topics.escalationEvents),
            ticket.event(EscalationRequested(by: "pat", via: .ccReply), at: time, on: Topics.escalationEvents),
        ]
        let row = Self.fold(events)
        #expect(row.escalation == .requested && row.conditions.isEmpty)
        #expect(Self.fold(Array(events.prefix(3))).conditions == [.partiesAgreed], "kept until the next round")
    }

    @Test func aRejectedOrDocumentationTicketIsNeverOpenWhateverCameFirst() {
        var ticket = TicketEvents("P-3")
        let time = at("2026-11-02T16:00:00Z")
        let received = ticket.received(at: time)
        let rejected = ticket.event(TicketRejected(organizationId: "acme", reason: .ineligiblePlan, message: "no plan"), at: time,
                                    on: Topics.rejected)
        let docs = ticket.event(TicketRoutedToDocs(subject: "typo", reason: "documentation"), at: time, on: Topics.docsFeedback)
        #expect(Self.fold([rejected, received]).disposition == .rejected)
        #expect(Self.fold([received, rejected]).disposition == .rejected)
        #expect(Self.fold([docs, received]).disposition == .documentation)
        #expect(!Self.fold([received, docs]).isOpen && Self.fold([received]).isOpen)
    }

    @Test func aRecordThatIsNotAnEventIsRefusedWithItsReason() {
        for (bytes, needle) in [
            (Array("not json".utf8), "not an event"),
            (Array(#"{"type":"sla.met","eventId":"e","ticketId":"t","source":"s","externalId":"x","at":"2026-11-02T16:00:00Z"}"#.utf8),
             "a sla.met that does not decode"),
        ] {
            #expect(throws: HistoryDecodingError.self) { try HistoryEvent(topic: Topics.slaEvents, partition: 0, offset: 0, bytes: bytes) }
            do {
                _ = try HistoryEvent(topic: Topics.slaEvents, partition: 0, offset: 0, bytes: bytes)
            } catch {
                #expect(error.code == "malformed_event" && error.reason.contains(needle))
            }
        }
        // Text a database cannot hold, and ids longer than any intake writes, are refused too.
        var ticket = TicketEvents("P-5")
        let opened = at("2026-11-02T16:00:00Z")
        let nul = ticket.event(TicketStatusChanged(status: .open, changedAt: opened), at: opened, on: Topics.activity)
        let withNUL = Array(nul.body.replacingOccurrences(of: #""status":"open""#, with: #""status":"open","note":"a\u0000b""#).utf8)
        #expect(throws: HistoryDecodingError(code: "malformed_event", reason: "a string holds U+0000, which the store cannot keep")) {
            try HistoryEvent(topic: Topics.activity, partition: 0, offset: 0, bytes: withNUL)
        }
        let escapedBackslash = Array(nul.body.replacingOccurrences(of: #""status":"open""#, with: #""status":"open","note":"a\\u0000b""#).utf8)
        #expect((try? HistoryEvent(topic: Topics.activity, partition: 0, offset: 0, bytes: escapedBackslash)) != nil,
                "a backslash before u0000 is text, not NUL")
        let longId = Array(nul.body.replacingOccurrences(of: #""externalId":"P-5""#, with: #""externalId":"\#(String(repeating: "x", count: 201))""#).utf8)
        #expect(throws: HistoryDecodingError(code: "malformed_event", reason: "externalId must be 1 to 200 bytes")) {
            try HistoryEvent(topic: Topics.activity, partition: 0, offset: 0, bytes: longId)
        }
        let unknown = Array(#"{"type":"ticket.merged","eventId":"e","ticketId":"t","source":"s","externalId":"x","at":"2026-11-02T16:00:00Z"}"#.utf8)
        let kept = try? HistoryEvent(topic: Topics.activity, partition: 0, offset: 0, bytes: unknown)
        #expect(kept?.fact == .other && kept?.summary == "ticket.merged", "an unknown type is kept on the timeline")
    }
}
