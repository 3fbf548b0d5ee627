import Foundation
import HelpdeskModel
import Testing

let engineer = EscalationActor("eve@support.example", role: .engineer)
let manager = EscalationActor("max@support.example", role: .manager)
let customer = EscalationActor("it-admin@acme.test", role: .customer)
let noon = ISO8601.parse("2026-03-09T19:00:00Z")!

/// An escalation driven into a state by the commands that lead there.
func escalation(in state: EscalationState, conditions: [DeEscalationCondition] = []) throws -> Escalation {
    var escalation = Escalation()
    let path: [EscalationCommand]
    switch state {
    case .none: path = []
    case .requested: path = [.request(by: customer, via: .ccReply)]
    case .evaluating: path = [.request(by: customer, via: .ccReply), .evaluate(engineer: "eve", by: manager)]
    case .escalated: path = [.request(by: customer, via: .ccReply), .evaluate(engineer: "eve", by: manager), .escalate(by: engineer)]
    case .deEscalated:
        path = [.request(by: customer, via: .ccReply), .evaluate(engineer: "eve", by: manager), .escalate(by: engineer)]
            + DeEscalationCondition.allCases.map { .recordCondition($0, by: engineer, note: nil) } + [.deEscalate(by: manager)]
    }
    for command in path { _ = try escalation.apply(command, at: noon) }
    for condition in conditions { _ = try escalation.apply(.recordCondition(condition, by: engineer, note: nil), at: noon) }
    #expect(escalation.state == state)
    return escalation
}

let commands: [EscalationCommand] = [
    .request(by: customer, via: .ccReply), .evaluate(engineer: "eve", by: engineer), .escalate(by: engineer),
    .recordCondition(.actionPlanConfirmed, by: engineer, note: "plan agreed on the call"), .deEscalate(by: engineer),
]

/// state → command → the state afterwards, or nil when the command is refused.
let transitions: [EscalationState: [String: EscalationState?]] = [
    .none: ["request": .requested, "evaluate": nil, "escalate": nil, "recordCondition": nil, "deEscalate": nil],
    .requested: ["request": nil, "evaluate": .evaluating, "escalate": nil, "recordCondition": nil, "deEscalate": nil],
    // De-escalating from evaluating needs the three conditions; with one recorded it is answered
    // with a refusal event naming the missing two, and the state stays.
    .evaluating: ["request": nil, "evaluate": nil, "escalate": .escalated, "recordCondition": .evaluating, "deEscalate": .evaluating],
    .escalated: ["request": nil, "evaluate": nil, "escalate": nil, "recordCondition": .escalated, "deEscalate": .escalated],
    .deEscalated: ["request": .requested, "evaluate": nil, "escalate": nil, "recordCondition": nil, "deEscalate": nil],
]

@Suite("Escalation state machine")
struct EscalationStateMachineTests {
    @Test(arguments: EscalationState.allCases)
    func everyCommandInEveryState(state: EscalationState) throws {
        for command in commands {
            var subject = try escalation(in: state)
            let before = subject
            let expected = transitions[state]![command.name]!
            do {
                _ = try subject.apply(command, at: noon)
                #expect(expected != nil, "\(command.name) in \(state) should be refused")
                #expect(subject.state == expected, "\(command.name) in \(state)")
                #expect(subject.history.count == before.history.count + 1)
            } catch {
                #expect(expected == nil, "\(command.name) in \(state) should be allowed, got \(error)")
                #expect(error == .notAllowed(command: command.name, state: state))
                #expect(error.description == "\(command.name) is not possible while the escalation is \(state.rawValue)")
                #expect(subject == before, "a refusal changes nothing")
            }
        }
    }

    @Test func onlyEngineersAndManagersRunAnEscalation() throws {
        for actor in [customer, EscalationActor("sla-timer", role: .system)] {
            for command: EscalationCommand in [.evaluate(engineer: "eve", by: actor), .escalate(by: actor),
                                                .recordCondition(.partiesAgreed, by: actor, note: nil), .deEscalate(by: actor)] {
                var subject = try escalation(in: .evaluating)
                let before = subject
                #expect(throws: EscalationRefusal.forbidden(command: command.name, role: actor.role)) {
                    try subject.apply(command, at: noon)
                }
                #expect(subject == before)
            }
        }
        var fresh = Escalation()
        #expect(try fresh.apply(.request(by: EscalationActor("sla-timer", role: .system), via: .slaBreach), at: noon)
            == .requested(EscalationRequested(by: "sla-timer", via: .slaBreach)))
    }

    @Test func deEscalationIsRefusedUntilAllThreeConditionsAreRecorded() throws {
        var subject = try escalation(in: .escalated)
        #expect(try subject.apply(.deEscalate(by: manager), at: noon)
            == .deEscalationRefused(EscalationDeEscalationRefused(by: manager.name, missing: [.actionPlanConfirmed, .troubleshootingVerified, .partiesAgreed])))
        _ = try subject.apply(.recordCondition(.partiesAgreed, by: engineer, note: "customer agreed by mail"), at: noon)
        _ = try subject.apply(.recordCondition(.actionPlanConfirmed, by: manager, note: nil), at: noon)
        #expect(try subject.apply(.deEscalate(by: manager), at: noon)
            == .deEscalationRefused(EscalationDeEscalationRefused(by: manager.name, missing: [.troubleshootingVerified])))
        #expect(subject.state == .escalated)
        _ = try subject.apply(.recordCondition(.troubleshootingVerified, by: engineer, note: nil), at: noon)
        #expect(try subject.apply(.deEscalate(by: manager), at: noon) == .deEscalated(EscalationDeEscalated(by: manager.name)))
        #expect(subject.state == .deEscalated)
        #expect(subject.conditions[.partiesAgreed] == RecordedCondition(by: engineer.name, at: noon, note: "customer agreed by mail"))
        #expect(subject.history.map(\.type) == [
            "escalation.requested", "escalation.evaluating", "escalation.escalated", "escalation.deEscalationRefused",
            "escalation.conditionRecorded", "escalation.conditionRecorded", "escalation.deEscalationRefused",
            "escalation.conditionRecorded", "escalation.deEscalated",
        ])
    }

    @Test func conditionsMayBeRecordedWhileEvaluatingButOnlyOnce() throws {
        var subject = try escalation(in: .evaluating, conditions: [.actionPlanConfirmed])
        #expect(throws: EscalationRefusal.conditionAlreadyRecorded(.actionPlanConfirmed)) {
            try subject.apply(.recordCondition(.actionPlanConfirmed, by: manager, note: nil), at: noon)
        }
        #expect(subject.missingConditions == [.troubleshootingVerified, .partiesAgreed])
        _ = try subject.apply(.escalate(by: engineer), at: noon)
        #expect(subject.missingConditions == [.troubleshootingVerified, .partiesAgreed], "conditions carry into escalated")
    }

    @Test func reEscalationStartsAFreshRound() throws {
        var subject = try escalation(in: .deEscalated)
        #expect(subject.missingConditions.isEmpty)
        _ = try subject.apply(.request(by: customer, via: .api), at: noon)
        #expect(subject.state == .requested)
        #expect(subject.via == .api)
        #expect(subject.engineer == nil)
        #expect(subject.missingConditions == DeEscalationCondition.allCases)
    }

    @Test func theStateSurvivesARoundTripThroughJSON() throws {
        let subject = try escalation(in: .escalated, conditions: [.partiesAgreed])
        #expect(try WireJSON.decode(Escalation.self, from: WireJSON.encode(subject)) == subject)
    }
}

@Suite("De-escalation from evaluation")
struct DeEscalationFromEvaluationTests {
    @Test func anEngineerMayDeEscalateFromEvaluatingOnceTheThreeConditionsAreRecorded() throws {
        var subject = try escalation(in: .evaluating)
        guard case .deEscalationRefused(let refused) = try subject.apply(.deEscalate(by: engineer), at: noon) else {
            Issue.record("expected a refusal naming the missing conditions")
            return
        }
        #expect(refused.missing == DeEscalationCondition.allCases)
        #expect(subject.state == .evaluating)
        for condition in DeEscalationCondition.allCases {
            _ = try subject.apply(.recordCondition(condition, by: engineer, note: nil), at: noon)
        }
        guard case .deEscalated = try subject.apply(.deEscalate(by: engineer), at: noon) else {
            Issue.record("expected the de-escalation")
            return
        }
        #expect(subject.state == .deEscalated)
    }
}
