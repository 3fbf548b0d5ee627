import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The records a forecast step publishes: its events on `sla.forecast`, the notifications they
/// call for, and the ledger's changes on `forecast.changelog`. Event ids derive from the ticket
/// and the episode (or, for the expectation, the ticket alone), so a step an active instance
/// repeats after a crash, or its successor makes again, yields the same ids.
public enum ForecastRecords {
    public static let service = "forecaster"

    public static func events(_ outputs: [ForecastLedger.Output], policy: SLAPolicy, now: Date) -> [OutgoingRecord] {
        outputs.flatMap { output -> [OutgoingRecord] in
            switch output {
            case .expected(let ticket, let prediction):
                let planPolicy = policy.forPlan(ticket.plan)
                let target = planPolicy.target(for: ticket.severity).firstResponse
                let zone = planPolicy.calendar.timeZone
                // The customer hears of it only when the forecast is later than the promise.
                let tell = ticket.requester != nil && prediction.respondAt > ticket.dueAt
                let text = ForecastWording.expectation(target: target, expectedAt: prediction.respondAt, now: now, zone: zone)
                let event = record(ticket, cause: "expected", now: now, SLAExpected(
                    severity: ticket.severity, plan: ticket.plan, targetSeconds: Int(target.components.seconds),
                    forecast: ResponseForecast(prediction), text: text, customerTold: tell))
                guard tell else { return [event.record] }
                let notice = HelpdeskModel.Notification(
                    audience: .customer, kind: .responseExpected, recipient: ticket.requester, severity: ticket.severity,
                    subject: "Your request \(ticket.externalId): when to expect our answer",
                    text: "Our target for your request \(ticket.externalId) is a first response \(text). "
                        + "We are working through a busy queue and will answer as soon as an agent is free.",
                    causedBy: event.eventId)
                return [event.record, .notification(notice, ticketId: ticket.ticketId, source: ticket.source,
                                                    externalId: ticket.externalId, at: now, producer: service)]
            case .atRisk(let ticket, let prediction, let episode):
                let event = record(ticket, cause: "risk/\(episode)", now: now, SLAAtRisk(
                    severity: ticket.severity, plan: ticket.plan, episode: episode, forecast: ResponseForecast(prediction)))
                let zone = policy.forPlan(ticket.plan).calendar.timeZone
                func at(_ date: Date) -> String { ForecastWording.instant(date, now: now, zone: zone) }
                let text = "\(ticket.severity.name.capitalized) ticket \(ticket.externalId) (\(ticket.source)) is expected to get "
                    + "its first response at \(at(prediction.respondAt)) (between \(at(prediction.earliest)) and "
                    + "\(at(prediction.latest))), after its due instant \(at(ticket.dueAt)): \(prediction.ahead) "
                    + "ticket(s) ahead in the queue, \(prediction.agentsOnShift) agent(s) on shift."
                let audiences: [HelpdeskModel.Notification.Audience] = ticket.severity == .critical ? [.supportLead, .management] : [.supportLead]
                return [event.record] + audiences.map { audience in
                    .notification(
                        HelpdeskModel.Notification(audience: audience, kind: .slaAtRisk, severity: ticket.severity,
                                     subject: "At risk of breach: \(ticket.externalId)", text: text, causedBy: event.eventId),
                        ticketId: ticket.ticketId, source: ticket.source, externalId: ticket.externalId, at: now, producer: service)
                }
            case .cleared(let ticket, let prediction, let episode):
                return [record(ticket, cause: "risk/\(episode)", now: now, SLAAtRiskCleared(
                    severity: ticket.severity, plan: ticket.plan, episode: episode, forecast: ResponseForecast(prediction))).record]
            }
        }
    }

    /// The ledger's changed entries (a deleted one as a tombstone).
    public static func changelog(_ changed: [TicketID: ForecastLedger.Entry?]) -> [OutgoingRecord] {
        changed.sorted { $0.key.rawValue < $1.key.rawValue }.map { ticketId, entry in
            OutgoingRecord(topic: Topics.forecastChangelog, key: ticketId.rawValue, value: entry.map(ForecastLedger.changelogValue))
        }
    }

    /// The desk's outlook under `ForecastOutlook.key`.
    public static func outlook(_ outlook: ForecastOutlook) -> OutgoingRecord {
        OutgoingRecord(topic: Topics.forecastChangelog, key: ForecastOutlook.key, value: try! WireJSON.encode(outlook))
    }

    private static func record<P: EventPayload>(
        _ ticket: WaitingTicket, cause: String, now: Date, _ payload: P
    ) -> (record: OutgoingRecord, eventId: EventID) {
        let event = Event(emittedBy: service, causedBy: cause, ticketId: ticket.ticketId, source: ticket.source,
                          externalId: ticket.externalId, at: now, payload: payload)
        return (OutgoingRecord(event: event, topic: Topics.slaForecast, producer: service), event.eventId)
    }
}
