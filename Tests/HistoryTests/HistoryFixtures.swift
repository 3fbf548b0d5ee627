import Foundation
import HelpdeskModel
import HistoryStore
import Logging
import TestSupport


/// Events of one ticket, written as the services write them and read back as the history
/// store reads them: each through its wire JSON.
struct TicketEvents {
    let source: String
    let externalId: String
    var ticketId: TicketID { TicketID(source: source, externalId: externalId) }
    /// The next offset per topic, so a ticket's records on a topic come in order.
    private var offsets: [String: Int64] = [:]

    init(_ externalId: String, source: String = "crm") {
        self.source = source
        self.externalId = externalId
    }

    mutating func event<P: EventPayload>(_ payload: P, at time: Date, on topic: String, cause: String = "") -> HistoryEvent {
        let offset = offsets[topic, default: 0]
        offsets[topic] = offset + 1
        let event = Event(emittedBy: "test", causedBy: cause.isEmpty ? "\(topic)/\(offset)" : cause, ticketId: ticketId,
                          source: source, externalId: externalId, at: time, payload: payload)
        return try! HistoryEvent(topic: topic, partition: 0, offset: offset, bytes: try! WireJSON.encode(event))
    }

    mutating func received(at time: Date, organization: String = "acme", subject: String = "VPN down") -> HistoryEvent {
        event(TicketReceived(organizationId: organization, subject: subject, description: "everyone", requester: Requester(email: "pat@acme.example"),
                             reportedSeverity: .major, impact: nil, category: .incident, openedAt: time, receivedAt: time,
                             assignee: "ana@support.example"),
              at: time, on: Topics.received)
    }

    mutating func classified(_ severity: Severity, openedAt: Date, at time: Date) -> HistoryEvent {
        event(TicketClassified(severity: severity, signals: [ClassificationSignal(signal: "serviceDown", criterion: "service down",
                                                                                   severity: .critical, foundIn: "subject: \"down\"")],
                               confidence: 0.875, reportedSeverity: .major, disagreesWithReporter: severity != .major,
                               needsDedicatedContact: false, openedAt: openedAt),
              at: time, on: Topics.classified)
    }

    mutating func started(_ severity: Severity, at time: Date, due: Date) -> HistoryEvent {
        event(SLAStarted(severity: severity, startedAt: time, dueAt: due), at: time, on: Topics.slaEvents)
    }

    mutating func met(at time: Date, due: Date, used: Int) -> HistoryEvent {
        event(SLAMet(dueAt: due, respondedAt: time, businessSecondsUsed: used), at: time, on: Topics.slaEvents)
    }

    mutating func breached(_ severity: Severity, due: Date) -> HistoryEvent {
        event(SLABreached(severity: severity, dueAt: due), at: due, on: Topics.slaEvents)
    }

    mutating func lateResponse(at time: Date, due: Date, late: Int, used: Int) -> HistoryEvent {
        event(SLARespondedAfterBreach(dueAt: due, respondedAt: time, businessSecondsLate: late, businessSecondsUsed: used),
              at: time, on: Topics.slaEvents)
    }

    /// The forecaster's word: what it expected (and whether the customer heard), at risk, cleared.
    mutating func expected(_ severity: Severity, at time: Date, expected: Date, due: Date, told: Bool) -> HistoryEvent {
        event(SLAExpected(severity: severity, plan: nil, targetSeconds: 3_600, forecast: forecast(expected, due: due),
                          text: "within 1 business hour; currently expected by 10:40 MST", customerTold: told),
              at: time, on: Topics.slaForecast, cause: "expected")
    }

    mutating func atRisk(_ severity: Severity, episode: Int, at time: Date, expected: Date, due: Date) -> HistoryEvent {
        event(SLAAtRisk(severity: severity, plan: nil, episode: episode, forecast: forecast(expected, due: due)),
              at: time, on: Topics.slaForecast, cause: "risk/\(episode)")
    }

    mutating func atRiskCleared(_ severity: Severity, episode: Int, at time: Date, expected: Date, due: Date) -> HistoryEvent {
        event(SLAAtRiskCleared(severity: severity, plan: nil, episode: episode, forecast: forecast(expected, due: due)),
              at: time, on: Topics.slaForecast, cause: "risk/\(episode)")
    }

    private func forecast(_ expected: Date, due: Date) -> ResponseForecast {
        ResponseForecast(expectedAt: expected, earliest: expected.addingTimeInterval(-600),
                         latest: expected.addingTimeInterval(900), dueAt: due, ahead: 7, agentsOnShift: 2)
    }

    mutating func status(_ status: TicketStatus, at time: Date) -> HistoryEvent {
        event(TicketStatusChanged(status: status, changedAt: time), at: time, on: Topics.activity)
    }

    mutating func severityChanged(_ severity: Severity, by person: String, at time: Date) -> HistoryEvent {
        event(TicketSeverityChanged(severity: severity, changedBy: person, reason: "customer called", changedAt: time),
              at: time, on: Topics.activity)
    }
}

/// The backends of the contract suite.
enum Backend: String, CaseIterable, CustomStringConvertible {
    case sqlite, postgres
    var description: String { rawValue }
}

/// A fresh, empty store on `backend`, and what closes it.
final class StoreUnderTest: Sendable {
    let store: any HistoryRepository
    private let pool: Task<Void, Never>?
    private let folder: String?

    init(_ backend: Backend) async throws {
        switch backend {
        case .sqlite:
            let folder = NSTemporaryDirectory() + "history-\(UUID().uuidString.prefix(8))"
            store = try SQLiteHistory(path: folder + "/history.sqlite")
            self.folder = folder
            pool = nil
        case .postgres:
            let server = try await PostgresServer.shared()
            let postgres = try PostgresHistory(url: try await server.makeDatabase(), logger: Logger(label: "test"))
            store = postgres
            pool = Task { await postgres.run() }
            folder = nil
        }
    }

    func close() {
        pool?.cancel()
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }
}
