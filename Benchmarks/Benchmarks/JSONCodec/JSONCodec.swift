// The project's JSON codec against Foundation's, on the records the services really write and read.
//
// Project: `WireJSON.encode`/`WireJSON.decode` (WireJSONEncoder, and WireJSONDecoder over the strict
// JSONParser), `EventDocument`, and the sla-timer's changelog value (`FirstResponseClock.changelogValue`
// and `init(changelogValue:)`).
// Foundation: `WireJSON.encoder()`/`WireJSON.decoder()`, the JSONEncoder/JSONDecoder configuration the
// project's codec stands in for (sorted keys, unescaped slashes, instants as ISO-8601 UTC to the
// second through the same `ISO8601` functions), made once and reused as a service would.
//
// Before anything is timed, each pair is checked to write the same bytes and to read back equal
// values; the suite stops if they differ. Foundation is handed `Data` made beforehand, so the copy
// from a Kafka record's bytes is not counted against it.
//
// Names are `<operation> <payload> · <codec>`; scripts/bench-codec.sh pairs them by that.

import Benchmark
import Foundation
import HelpdeskModel

/// The sla-timer's changelog value as a `Codable` struct, for Foundation: the same members, the same
/// types (instants as `Date`, the phase and severity as their enums), absent members omitted.
struct ClockRecord: Codable, Equatable {
    var ticketId: String
    var source: String
    var externalId: String
    var phase: FirstResponseClock.Phase
    var warned: Bool
    var severity: Severity?
    var pending: String?
    var assignee: String?
    var requester: String?
    var startedAt: Date?
    var dueAt: Date?
    var warnAt: Date?
    var respondedAt: Date?
    var resolvedAt: Date?

    init(_ clock: FirstResponseClock) {
        precondition(clock.pending.isEmpty, "the fixture's clock has no pending activity")
        ticketId = clock.ticketId.rawValue
        source = clock.source
        externalId = clock.externalId
        phase = clock.phase
        warned = clock.warned
        severity = clock.severity
        assignee = clock.assignee
        requester = clock.requester
        startedAt = clock.startedAt
        dueAt = clock.dueAt
        warnAt = clock.warnAt
        respondedAt = clock.respondedAt
        resolvedAt = clock.resolvedAt
    }
}

enum Fixtures {
    static let opened = ISO8601.parse("2026-03-06T23:30:00Z")!
    static let received = ISO8601.parse("2026-03-06T23:30:02Z")!
    static let ticket = TicketID(source: "crm", externalId: "CRM-1042")

    /// `tickets.received`, as intake writes it for a ticket with every field filled in.
    static let receivedEvent: Event<TicketReceived> = {
        let description = """
            Since the 09:00 deploy nobody at Acme can sign in through SSO: the identity provider answers \
            "invalid_grant" and the app shows a blank page at https://app.acme.test/login/callback. \
            About 400 users are affected in three offices; there is no workaround, support staff are \
            resetting sessions by hand. Error id 7f3c-22a1, first seen 08:58 UTC.
            """
        return Event(
            emittedBy: "intake", causedBy: "tickets.inbound/0/1042", ticketId: ticket, source: "crm", externalId: "CRM-1042",
            at: received,
            payload: TicketReceived(
                organizationId: "acme", subject: "SSO login fails for everyone since the deploy", description: description,
                requester: Requester(name: "Ada Lovelace", email: "it-admin@acme.test"), reportedSeverity: .major,
                impact: Impact(serviceDown: true, usersAffected: .majority, workaround: Workaround.none, installations: .impaired),
                category: .incident, openedAt: opened, receivedAt: received, assignee: "sam@support.example"))
    }()

    /// `tickets.classified`, as the classifier writes it for that ticket (its real rules decide the signals).
    static let classifiedEvent: Event<TicketClassified> = {
        let ticket = receivedEvent.payload
        let result = Classifier().classify(ClassifierInput(
            subject: ticket.subject, description: ticket.description, impact: ticket.impact, category: ticket.category,
            reportedSeverity: ticket.reportedSeverity))
        return Event(
            emittedBy: "classifier", causedBy: receivedEvent.eventId.rawValue, ticketId: receivedEvent.ticketId,
            source: receivedEvent.source, externalId: receivedEvent.externalId, at: received,
            payload: TicketClassified(
                severity: result.severity, signals: result.signals, confidence: result.confidence,
                reportedSeverity: result.reportedSeverity, disagreesWithReporter: result.disagreesWithReporter,
                needsDedicatedContact: result.needsDedicatedContact, openedAt: ticket.openedAt, assignee: ticket.assignee,
                requesterEmail: ticket.requester?.email))
    }()

    /// A running clock that has warned, as the sla-timer writes it to its changelog.
    static let clock: FirstResponseClock = {
        var clock = FirstResponseClock(ticketId: ticket, source: "crm", externalId: "CRM-1042")
        clock.assignee = "sam@support.example"
        clock.requester = "it-admin@acme.test"
        let started = clock.apply(
            .classified(severity: .major, openedAt: opened, eventId: classifiedEvent.eventId), policy: .standard)
        precondition(clock.phase == .running && started.count == 1, "the fixture's clock started")
        _ = clock.apply(.tick(now: clock.warnAt!), policy: .standard)
        precondition(clock.phase == .running && clock.warned, "the fixture's clock warned")
        return clock
    }()
}

func check(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fatalError("JSONCodec benchmark: \(what())") }
}

func text(_ bytes: some Sequence<UInt8>) -> String { String(decoding: Array(bytes), as: UTF8.self) }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000)

    let encoder = WireJSON.encoder()
    let decoder = WireJSON.decoder()

    /// Encode and decode of one event type, both codecs, after checking they agree.
    func codecPair<P: EventPayload>(_ name: String, _ event: Event<P>) {
        let bytes = try! WireJSON.encode(event)
        let foundationBytes = try! encoder.encode(event)
        check(bytes == Array(foundationBytes), "\(name): the codecs write different bytes:\n\(text(bytes))\n\(text(foundationBytes))")
        check(try! WireJSON.decode(Event<P>.self, from: bytes) == event, "\(name): WireJSON does not read back the event")
        check(try! decoder.decode(Event<P>.self, from: foundationBytes) == event, "\(name): JSONDecoder does not read back the event")
        let data = Data(bytes)

        Benchmark("encode \(name) · WireJSON") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! WireJSON.encode(event)) }
        }
        Benchmark("encode \(name) · Foundation") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! encoder.encode(event)) }
        }
        Benchmark("decode \(name) · WireJSON") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! WireJSON.decode(Event<P>.self, from: bytes)) }
        }
        Benchmark("decode \(name) · Foundation") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! decoder.decode(Event<P>.self, from: data)) }
        }
    }

    codecPair("TicketReceived", Fixtures.receivedEvent)
    codecPair("TicketClassified", Fixtures.classifiedEvent)

    // A record on a topic of several event types: read its envelope to route it, then the event.
    // EventDocument parses once; with Foundation it is two decodes of the same bytes, as before.
    do {
        let event = Fixtures.classifiedEvent
        let bytes = try! WireJSON.encode(event)
        let data = Data(bytes)
        let document = try! EventDocument(bytes)
        check(document.envelope.type == TicketClassified.type && (try! document.event(TicketClassified.self)) == event,
              "EventDocument does not read back the event")
        let envelope = try! decoder.decode(EventEnvelope.self, from: data)
        check(envelope == document.envelope, "the envelopes differ")

        Benchmark("envelope+decode TicketClassified · WireJSON") { benchmark in
            for _ in benchmark.scaledIterations {
                let document = try! EventDocument(bytes)
                blackHole(document.envelope.type == TicketClassified.type)
                blackHole(try! document.event(TicketClassified.self))
            }
        }
        Benchmark("envelope+decode TicketClassified · Foundation") { benchmark in
            for _ in benchmark.scaledIterations {
                let envelope = try! decoder.decode(EventEnvelope.self, from: data)
                blackHole(envelope.type == TicketClassified.type)
                blackHole(try! decoder.decode(Event<TicketClassified>.self, from: data))
            }
        }
    }

    // The sla-timer's changelog value for one clock: written after every change, read once per
    // ticket when a partition is restored.
    do {
        let clock = Fixtures.clock
        let record = ClockRecord(clock)
        let bytes = clock.changelogValue
        let foundationBytes = try! encoder.encode(record)
        check(bytes == Array(foundationBytes), "clock: the codecs write different bytes:\n\(text(bytes))\n\(text(foundationBytes))")
        check(try! FirstResponseClock(changelogValue: bytes) == clock, "clock: the changelog value does not read back the clock")
        check(try! decoder.decode(ClockRecord.self, from: foundationBytes) == record, "clock: JSONDecoder does not read back the record")
        let data = Data(bytes)

        Benchmark("encode FirstResponseClock · WireJSON") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(clock.changelogValue) }
        }
        Benchmark("encode FirstResponseClock · Foundation") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! encoder.encode(ClockRecord(clock))) }
        }
        Benchmark("decode FirstResponseClock · WireJSON") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! FirstResponseClock(changelogValue: bytes)) }
        }
        Benchmark("decode FirstResponseClock · Foundation") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! decoder.decode(ClockRecord.self, from: data)) }
        }
    }

    // The strict parser alone, against Foundation's JSONSerialization, on the `tickets.received` record.
    do {
        let bytes = try! WireJSON.encode(Fixtures.receivedEvent)
        let data = Data(bytes)
        guard case .object(let members) = try! JSONParser.parse(bytes),
              let object = try! JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            fatalError("JSONCodec benchmark: the record does not parse to an object")
        }
        check(members.count == object.count && Set(members.keys) == Set(object.keys), "the parsers read different members")

        Benchmark("parse TicketReceived · WireJSON") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! JSONParser.parse(bytes)) }
        }
        Benchmark("parse TicketReceived · Foundation") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try! JSONSerialization.jsonObject(with: data)) }
        }
    }
}
