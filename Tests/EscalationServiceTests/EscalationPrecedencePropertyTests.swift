import EscalationService
import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

/// Escalation's side of the precedence rule, over every interleaving Kafka's per-partition
/// order allows: the classification on its topic, the ticket's activity (severity changes,
/// assignments, CC replies) in the order published. The ticket ends with the same severity,
/// escalation state and people in all of them.
@Suite("escalation precedence")
struct EscalationPrecedencePropertyTests {
    @Test func everyInterleavingEndsTheSame() async {
        let fuzz = FuzzRun(seconds: 1)
        let (runs, _) = await fuzz.run(minimumRuns: 300) { random in
            let ticket = TicketInputs("CRM-P")
            let opened = monday
            var activity = [OutgoingRecord]()
            var time = opened
            for _ in 0..<Int(random.next() % 5) {
                time = time.addingTimeInterval(Double(random.next() % 3600))
                switch random.next() % 3 {
                case 0: activity.append(ticket.severityChanged(to: Severity.allCases[Int(random.next() % 3)], at: time))
                case 1: activity.append(ticket.assigned(to: ["sam@support.example", "kim@support.example"][Int(random.next() % 2)], at: time))
                default: activity.append(ticket.customerMessage(at: time, cc: ["escalations@support.example"]))
                }
            }
            let classified = ticket.classified(Severity.allCases[Int(random.next() % 3)], openedAt: opened,
                                               assignee: "lee@support.example", requester: "it@acme.test")
            let outcomes = (0...activity.count).map { position -> String in
                let driver = PartitionDriver()
                var inputs = activity
                inputs.insert(classified, at: position)
                for input in inputs { _ = try? driver.handle(input) }
                let state = driver.state.ticket(ticket.ticketId)
                return "\(state?.severity.map { "\($0)" } ?? "-") \(state?.escalation.state.rawValue ?? "-") "
                    + "\(state?.assignee ?? "-") \(state?.requester ?? "-")"
            }
            #expect(Set(outcomes).count == 1, "seed \(fuzz.seed): \(outcomes)")
            return true
        }
        #expect(runs >= 300)
    }
}
