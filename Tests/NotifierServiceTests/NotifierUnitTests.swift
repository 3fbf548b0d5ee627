import Foundation
import HelpdeskModel
import MessageBus
@testable import NotifierService
import PropertyBased
import ServiceRuntime
import Synchronization
import Testing
import TestSupport

@Suite("notifier routes file")
struct NotificationRoutesTests {
    let file = """
        webhooks:
          ops-chat: { url: "https://chat.example/hooks/1", format: slack }
          pager: { url: "https://pager.example/in" }
        routes:
          - name: people
            audiences: [assignee, customer, escalationEngineer]
            email: [recipient]
          - name: leads-critical
            audiences: [supportLead]
            severities: [critical]
            email: [lead@support.example]
            webhooks: [ops-chat]
          - name: management-breaches
            audiences: [management]
            kinds: [slaBreached, escalationRequested]
            webhooks: [pager, ops-chat]
            log: true
        """

    func notification(
        _ audience: HelpdeskModel.Notification.Audience, kind: HelpdeskModel.Notification.Kind? = .slaBreached,
        severity: Severity? = .critical, recipient: String? = nil
    ) -> HelpdeskModel.Notification {
        .init(audience: audience, kind: kind, recipient: recipient, severity: severity, subject: "s", text: "t",
              causedBy: EventID.derive(["x"]))
    }

    @Test func routesPickChannelsByAudienceSeverityAndKind() throws {
        let routes = try NotificationRoutes.parse(yaml: file)
        #expect(routes.webhooks["ops-chat"]?.format == .slack)
        #expect(routes.webhooks["pager"]?.format == .standard)
        let toLead = routes.targets(for: notification(.supportLead))
        #expect(toLead.map(\.channel) == [.email, .webhook])
        #expect(toLead.map(\.recipient) == ["lead@support.example", "ops-chat"])
        #expect(routes.targets(for: notification(.supportLead, severity: .major)).isEmpty, "critical only")
        #expect(routes.targets(for: notification(.supportLead, severity: nil)).isEmpty, "no severity: not critical")
        let toManagement = routes.targets(for: notification(.management, kind: .escalationRequested))
        #expect(toManagement.map(\.recipient) == ["pager", "ops-chat", "log"])
        #expect(routes.targets(for: notification(.management, kind: .slaWarning)).isEmpty)
        #expect(routes.targets(for: notification(.management, kind: nil)).isEmpty)
        let toAssignee = routes.targets(for: notification(.assignee, recipient: "agent@support.example"))
        #expect(toAssignee == [.init(route: "people", channel: .email, recipient: "agent@support.example")])
        #expect(routes.targets(for: notification(.customer)).first?.recipient == nil, "no address carried")
    }

    @Test func aChannelAndRecipientNamedByTwoRoutesIsDeliveredOnce() throws {
        let routes = try NotificationRoutes.parse(yaml: """
            routes:
              - { name: a, audiences: [supportLead], email: [Lead@Support.example] }
              - { name: b, audiences: [supportLead], email: [lead@support.example], log: true }
            """)
        let targets = routes.targets(for: notification(.supportLead))
        #expect(targets.map(\.route) == ["a", "b"])
        #expect(targets.map(\.channel) == [.email, .log])
    }

    @Test func everyProblemIsNamedAtOnce() throws {
        let error = try #require(throws: RoutesFileError.self) {
            try NotificationRoutes.parse(yaml: """
                webhooks:
                  hook: { url: "ftp://nowhere", secret: "x" }
                  "bad name": { url: "https://a.example" }
                route: []
                routes:
                  - name: one
                    audiences: [manager]
                    severities: [urgent]
                    kinds: [breach]
                    email: [not-an-address, "x@y.example\\r\\nBcc: evil@z.example"]
                    webhooks: [missing]
                  - name: one
                    audiences: [customer]
                  - audiences: [customer]
                    log: yes please
                """)
        }
        let text = error.problems.joined(separator: "\n")
        for expected in [
            "unknown key `route`", "webhooks.hook: unknown key `secret`", "webhooks.hook.url: an http or https URL is required",
            "webhooks.bad name: a name", "routes[0] (one).audiences: `manager`", "routes[0] (one).severities: `urgent`",
            "routes[0] (one).kinds: `breach`", "routes[0] (one).email: `not-an-address`", "Bcc: evil@z.example",
            "routes[0] (one).webhooks: `missing`", "routes[1] (one).name: used by an earlier route",
            "routes[1] (one): delivers nowhere", "routes[2].name: a name",
        ] {
            #expect(text.contains(expected), "missing: \(expected)\nin: \(text)")
        }
    }

    @Test func theServiceRefusesToStartOnABadFileOrAMissingSecretWithoutShowingSecrets() throws {
        let path = NSTemporaryDirectory() + "routes-\(UUID().uuidString.prefix(8)).yaml"
        try """
            webhooks:
              pager: { url: "https://pager.example/in" }
            routes:
              - { name: a, audiences: [management], webhooks: [pager], email: [boss@support.example] }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: ConfigurationError.self) {
            _ = try buildNotifier(ServiceDependencies(
                serviceName: "notifier", defaultHTTPPort: 0,
                environment: ["NOTIFIER_ROUTES_FILE": path, "NOTIFIER_SMTP_PASSWORD": "hunter2-secret"],
                bus: InMemoryBroker()))
        }
        let text = error.problems.joined(separator: "\n")
        #expect(text.contains("NOTIFIER_WEBHOOK_PAGER_SECRET is required"))
        #expect(text.contains("routes e-mail, but NOTIFIER_SMTP_URL is not set"))
        let badSecret = try #require(throws: ConfigurationError.self) {
            _ = try buildNotifier(ServiceDependencies(
                serviceName: "notifier", defaultHTTPPort: 0,
                environment: ["NOTIFIER_ROUTES_FILE": path, "NOTIFIER_WEBHOOK_PAGER_SECRET": "whsec_short-and-secret",
                              "NOTIFIER_SMTP_URL": "smtp://127.0.0.1:1", "NOTIFIER_SMTP_USERNAME": "u",
                              "NOTIFIER_SMTP_PASSWORD": "hunter2-secret"],
                bus: InMemoryBroker()))
        }
        let badText = badSecret.problems.joined(separator: "\n")
        #expect(badText.contains("NOTIFIER_WEBHOOK_PAGER_SECRET=<secret> is not whsec_"))
        #expect(!badText.contains("short-and-secret") && !badText.contains("hunter2"))
    }
}

@Suite("notifier messages and signatures")
struct NotifierMessageTests {
    func event(subject: String, text: String = "Line one.\n\nLine <two> & more") -> Event<HelpdeskModel.Notification> {
        Event(
            emittedBy: "sla-timer", causedBy: "c", ticketId: TicketID(source: "crm", externalId: "T-9"), source: "crm",
            externalId: "T-9", at: Date(timeIntervalSince1970: 1_800_000_000),
            payload: .init(audience: .supportLead, kind: .slaWarning, severity: .major, subject: subject, text: text,
                           causedBy: EventID.derive(["c"])))
    }

    @Test func theStandardWebhooksTestVectorSigns() throws {
        // From the Standard Webhooks specification's reference libraries.
        let secret = try #require(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = secret.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(secret.verifies(header: "v1,other v1,bogus " + signature, id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                timestamp: 1_614_265_330, body: body))
        #expect(!secret.verifies(header: signature, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_331, body: body))
        #expect(WebhookSecret("whsec_dG9vIHNob3J0") == nil, "a key under 16 bytes is refused")
        #expect(WebhookSecret("whsec_not base64!") == nil)
    }

    @Test func aSubjectCannotInjectHeadersAndTextIsEscapedInHTML() {
        let message = MailMessage(
            notification: event(subject: "Breach\r\nBcc: evil@z.example"), from: "helpdesk@support.example",
            to: "lead@support.example", date: Date(timeIntervalSince1970: 1_800_000_000))
        let rendered = String(decoding: message.rendered(), as: UTF8.self)
        let headers = rendered.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(!headers.contains { $0.hasPrefix("Bcc:") })
        #expect(headers.contains("Subject: Breach  Bcc: evil@z.example"))
        #expect(headers.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000"))
        #expect(message.html.contains("<p>Line &lt;two&gt; &amp; more</p>"))
        #expect(!message.html.contains("<two>"))
    }

    @Test func aCancelledSendStopsWaitingOnTheRelay() async throws {
        // An HTTP server never greets an SMTP client: the send waits until it is cancelled.
        let silent = WebhookReceiver()
        try await silent.start()
        defer { silent.stop() }
        let smtp = CurlSMTP(settings: SMTPSettings(
            url: silent.url("").replacingOccurrences(of: "http://", with: "smtp://"), from: "helpdesk@support.example",
            tls: .off, timeout: .seconds(60)))
        let message = MailMessage(notification: event(subject: "s"), from: "helpdesk@support.example",
                                  to: "lead@support.example", date: Date(timeIntervalSince1970: 0))
        let started = ContinuousClock.now
        let send = Task { await smtp.send(message) }
        try await Task.sleep(for: .milliseconds(300))
        send.cancel()
        #expect(await send.value == .transient("SMTP: cancelled"))
        #expect(ContinuousClock.now - started < .seconds(10), "not the 60 s timeout")
    }

    @Test func aNonASCIISubjectIsAnEncodedWord() {
        let message = MailMessage(
            notification: event(subject: "Frühwarnung: Ticket T-9 läuft ab"), from: "helpdesk@support.example",
            to: "lead@support.example", date: Date(timeIntervalSince1970: 0))
        let rendered = String(decoding: message.rendered(), as: UTF8.self)
        let subject = rendered.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") }
        #expect(subject?.hasPrefix("Subject: =?utf-8?B?") == true)
        #expect(rendered.allSatisfy { $0.isASCII }, "a message on the wire is 7-bit")
        #expect(rendered.contains("Date: Thu, 1 Jan 1970 00:00:00 +0000"))
    }

    @Test func httpStatusesAreSortedIntoDeliveredLaterAndNever() {
        #expect(AsyncHTTPWebhooks.outcome(status: 204, retryAfter: nil) == .delivered)
        #expect(AsyncHTTPWebhooks.outcome(status: 503, retryAfter: "7") == .transient("HTTP 503", retryAfter: .seconds(7)))
        #expect(AsyncHTTPWebhooks.outcome(status: 429, retryAfter: nil) == .transient("HTTP 429", retryAfter: nil))
        #expect(AsyncHTTPWebhooks.outcome(status: 410, retryAfter: nil)
            == .permanent(code: "http_410", reason: "the receiver answered HTTP 410"))
        #expect(AsyncHTTPWebhooks.outcome(status: 301, retryAfter: nil)
            == .permanent(code: "http_301", reason: "the receiver answered HTTP 301"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(AsyncHTTPWebhooks.parseRetryAfter("Fri, 15 Jan 2027 08:00:30 GMT", now: now) == .seconds(30))
        #expect(AsyncHTTPWebhooks.parseRetryAfter("soon", now: now) == nil)
    }
}

@Suite("notifier retries and circuit: properties")
struct DeliveryPolicyPropertyTests {
    @Test func aDelayIsInTheUpperHalfOfItsBackOffCappedAndRetryAfterIsHonouredUpToItsCap() async {
        let policy = RetryPolicy(firstDelay: .milliseconds(100), maxDelay: .seconds(30), maxAttempts: 10, maxRetryAfter: .seconds(60))
        await propertyCheck(count: 500, input: Gen.int(in: 1...40), Gen.double(in: 0...1), Gen.int(in: -1...120)) {
            attempt, jitter, retryAfter in
            let given: Duration? = retryAfter < 0 ? nil : .seconds(retryAfter)
            let delay = policy.delay(afterAttempt: attempt, retryAfter: given, jitter: jitter)
            if let given {
                #expect(delay == min(given, .seconds(60)))
            } else {
                let base = min(Duration.milliseconds(100) * (1 << min(attempt - 1, 30)), .seconds(30))
                #expect(delay >= base / 2 && delay <= base)
            }
        }
    }

    enum Step: Int, CaseIterable { case ask, succeed, fail, abandon, waitASecond, waitAMinute }

    /// Whatever happens, the circuit lets no attempt through while open before its time, lets
    /// one probe at a time, and opens only after `threshold` failures in a row.
    @Test func theCircuitOpensAfterTheThresholdAndProbesOneAtATime() async {
        let steps = Gen.int(in: 0...(Step.allCases.count - 1)).array(of: 1...200)
        await propertyCheck(count: 500, input: steps) { script in
            var circuit = CircuitBreaker(threshold: 3, coolDown: .seconds(5), maxCoolDown: .seconds(40))
            var now = Date(timeIntervalSince1970: 0)
            var failuresInARow = 0
            var probeOut = false
            for raw in script {
                switch Step(rawValue: raw)! {
                case .ask:
                    let before = circuit.state
                    let (allowed, until) = circuit.mayAttempt(at: now)
                    switch before {
                    case .closed: #expect(allowed)
                    case .probing: #expect(!allowed && until == nil)
                    case .open(let openUntil):
                        #expect(allowed == (now >= openUntil))
                        if !allowed { #expect(until == openUntil) }
                    }
                    if allowed, case .open = before { probeOut = true }
                case .succeed:
                    circuit.succeeded()
                    failuresInARow = 0
                    probeOut = false
                    #expect(circuit.state == .closed)
                case .fail:
                    let wasClosed = circuit.state == .closed
                    circuit.failed(at: now)
                    failuresInARow += 1
                    if wasClosed { #expect(circuit.isOpen == (failuresInARow >= 3)) }
                    if probeOut {
                        #expect(circuit.isOpen)
                        probeOut = false
                    }
                case .abandon:
                    // A cancelled attempt: tells nothing of the endpoint, and frees a probe.
                    let failures = circuit.consecutiveFailures
                    circuit.abandoned()
                    probeOut = false
                    #expect(circuit.state != .probing)
                    #expect(circuit.consecutiveFailures == failures)
                case .waitASecond: now += 1
                case .waitAMinute: now += 60
                }
                if case .open(let until) = circuit.state { #expect(until.timeIntervalSince(now) <= 40) }
            }
        }
    }
}

@Suite("notifier secrets")
struct NotifierSecretTests {
    @Test func credentialsInAnSMTPURLAreNeverShown() {
        #expect(SecretURL.redacted("smtp://mailer:hunter2@relay.example:587") == "smtp://<redacted>@relay.example:587")
        #expect(SecretURL.redacted("smtp://relay.example:25") == "smtp://relay.example:25")
        // Only a ConfigurationError's description names the problem this way.
        let refused = problems(["NOTIFIER_SMTP_URL": "http://u:hunter2@relay.example"])
        #expect(!refused.contains("hunter2"))
        #expect(refused.contains("is not an smtp:// or smtps:// URL"))
        #expect(SecretURL.redacted("smtp://mailer:p@ss@relay.example") == "smtp://<redacted>@relay.example",
                "a password holding an @ is hidden whole")
    }

    /// Never posts: the settings are all that is built here.
    struct NoWebhooks: WebhookTransport {
        func post(_ request: WebhookRequest, to url: URL, timeout: Duration) async -> DeliveryAttempt { .transient("none") }
        func shutdown() async {}
    }

    func problems(_ environment: [String: String]) -> String {
        do {
            _ = try buildNotifier(ServiceDependencies(
                serviceName: "notifier", defaultHTTPPort: 0, environment: environment, bus: InMemoryBroker()),
                webhooks: NoWebhooks())
            return ""
        } catch let error as ConfigurationError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func credentialsGoOnlyInTheirOwnVariablesAndAlwaysOverTLS() {
        let inURL = problems(["NOTIFIER_SMTP_URL": "smtp://mailer:p@ss@relay.example:587"])
        #expect(inURL.contains("carries credentials; set NOTIFIER_SMTP_USERNAME and NOTIFIER_SMTP_PASSWORD"))
        #expect(!inURL.contains("p@ss") && !inURL.contains("mailer"))
        for tls in ["off", "optional"] {
            let clear = problems(["NOTIFIER_SMTP_URL": "smtp://relay.example:587", "NOTIFIER_SMTP_USERNAME": "mailer",
                                  "NOTIFIER_SMTP_PASSWORD": "hunter2-secret", "NOTIFIER_SMTP_TLS": tls])
            #expect(clear.contains("could send the password in clear"), "NOTIFIER_SMTP_TLS=\(tls)")
            #expect(!clear.contains("hunter2"))
        }
        #expect(problems(["NOTIFIER_SMTP_URL": "smtps://relay.example:465", "NOTIFIER_SMTP_USERNAME": "mailer",
                          "NOTIFIER_SMTP_PASSWORD": "hunter2-secret", "NOTIFIER_SMTP_TLS": "off"]).isEmpty,
                "smtps:// is TLS from the first byte")
        #expect(problems(["NOTIFIER_SMTP_URL": "smtp://relay.example:587", "NOTIFIER_SMTP_USERNAME": "mailer",
                          "NOTIFIER_SMTP_PASSWORD": "hunter2-secret"]).isEmpty, "a username makes TLS required by default")
    }
}

@Suite("notifier lanes and SMTP replies")
struct DeliveryLaneTests {
    let far = Date.distantFuture

    func lane(threshold: Int = 1, coolDown: Duration = .seconds(60), capacity: Int = 2) -> DeliveryLane {
        DeliveryLane(name: "test", concurrency: 1, capacity: capacity,
                     circuit: CircuitBreaker(threshold: threshold, coolDown: coolDown), clock: SystemWallClock())
    }

    @Test func aFullLaneBehindAnOpenCircuitTurnsNewDeliveriesAwayAtOnce() async throws {
        let lane = lane()
        #expect(try await lane.admit())
        #expect(try await lane.admit())
        let waiting = Task { try await lane.admit() }
        try await Task.sleep(for: .milliseconds(20))
        _ = try await lane.attempt(until: far) { .transient("refused") }
        #expect(lane.circuitIsOpen)
        #expect(try await waiting.value == false, "a delivery waiting for room is turned away when the circuit opens")
        #expect(try await lane.admit() == false, "a full lane with an open circuit admits nothing")
        lane.leave()
        #expect(try await lane.admit(), "room made by a finished delivery is taken even while open")
    }

    @Test func aHealthyFullLaneMakesANewDeliveryWaitForRoom() async throws {
        let lane = lane(capacity: 1)
        #expect(try await lane.admit())
        let waiting = Task { try await lane.admit() }
        try await Task.sleep(for: .milliseconds(20))
        lane.leave()
        #expect(try await waiting.value)
    }

    @Test func waitingOnAnOpenCircuitCountsTowardGivingUp() async throws {
        let lane = lane(coolDown: .seconds(60))
        _ = try await lane.attempt(until: far) { .transient("refused") }
        let started = ContinuousClock.now
        let outcome = try await lane.attempt(until: Date() + 1) { .delivered }
        #expect(outcome == nil, "the circuit stays open past the deadline: no attempt")
        #expect(ContinuousClock.now - started < .seconds(1), "it says so at once rather than wait")
    }

    /// An attempt whose endpoint does not answer, cancelled while it waits.
    func cancelledAttempt(on lane: DeliveryLane) async throws -> Task<DeliveryAttempt?, any Error> {
        let attempt = Task {
            try await lane.attempt(until: far) {
                try? await Task.sleep(for: .seconds(30))
                return .transient("cancelled")
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        attempt.cancel()
        return attempt
    }

    @Test func aCancelledProbeNeitherCountsNorLeavesTheCircuitWaiting() async throws {
        let lane = lane(coolDown: .milliseconds(10))
        _ = try await lane.attempt(until: far) { .transient("refused") }
        try await Task.sleep(for: .milliseconds(20))
        let probe = try await cancelledAttempt(on: lane)
        await #expect(throws: CancellationError.self) { try await probe.value }
        let next = Task { try await lane.attempt(until: far) { .delivered } }
        let answer = Task {
            try await Task.sleep(for: .seconds(5))
            next.cancel()
        }
        #expect(try await next.value == .delivered, "the next attempt probes: the circuit is not stuck")
        answer.cancel()
        #expect(!lane.circuitIsOpen)
    }

    @Test func aCancelledAttemptIsNotHeldAgainstTheEndpoint() async throws {
        let lane = lane(threshold: 2)
        _ = try await lane.attempt(until: far) { .transient("refused") }
        _ = try? await cancelledAttempt(on: lane).value
        #expect(!lane.circuitIsOpen, "one real failure of two: still closed")
    }

    @Test func aSlotFreedWhileAWaiterQueuesIsNeverMissed() async throws {
        let slots = AsyncSlots(limit: 1)
        let finished = Completions()
        let work = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<5_000 {
                    group.addTask {
                        _ = try await slots.acquire()
                        slots.release()
                        finished.count.withLock { $0 += 1 }
                    }
                }
                try await group.waitForAll()
            }
        }
        // A lost wake-up stops every waiter for ever. The watchdog cancels the work (the waiters
        // throw and the test fails) only when 30 s pass with no acquire finished, so a slow,
        // crowded pool in the full test run is not taken for a lost wake-up.
        let watchdog = Task {
            var seen = -1
            while true {
                try await Task.sleep(for: .seconds(30))
                let now = finished.count.withLock { $0 }
                if now == seen { return work.cancel() }
                seen = now
            }
        }
        defer { watchdog.cancel() }
        try await work.value
        #expect(finished.count.withLock { $0 } == 5_000)
        #expect(slots.used == 0 && slots.waiting == 0)
    }

    private final class Completions: Sendable {
        let count = Mutex(0)
    }

    @Test func onlyARefusalOfThisMessageIsPermanent() {
        #expect(SMTPFailure.outcome(reply: 550, detail: "RCPT failed: 550", fallback: "x")
            == .permanent(code: "smtp_550", reason: "SMTP: RCPT failed: 550 (reply 550)"))
        #expect(SMTPFailure.outcome(reply: 554, detail: "", fallback: "Weird server reply", afterData: true)
            == .permanent(code: "smtp_554", reason: "SMTP: Weird server reply after the message (reply 554)"),
            "the message refused after its data")
        for (reply, detail) in [(535, ""), (553, "MAIL failed: 553"),
                                (554, "Got unexpected smtp-server response: 554"), (451, "RCPT failed: 451"),
                                (0, "Failed to connect to relay port 25")] {
            guard case .transient = SMTPFailure.outcome(reply: reply, detail: detail, fallback: "x") else {
                Issue.record("\(reply) \(detail) should be retried: it is the relay's state, not this message's")
                continue
            }
        }
    }

    @Test func aDisplayNameIsQuotedOrEncodedAndTheAddressNever() {
        #expect(MailMessage.addressHeader("lead@support.example") == "lead@support.example")
        #expect(MailMessage.addressHeader("Help, Desk <helpdesk@support.example>") == "\"Help, Desk\" <helpdesk@support.example>")
        #expect(MailMessage.addressHeader("\"Help \\\\ \\\"Desk\\\"\" <h@s.example>") == "\"Help \\\\ \\\"Desk\\\"\" <h@s.example>",
                "a quoted name stays as it was quoted, not escaped twice")
        #expect(MailMessage.addressHeader("Help \"Desk\" <h@s.example>") == "\"Help \\\"Desk\\\"\" <h@s.example>")
        let encoded = MailMessage.addressHeader("Assistance Équipe <aide@support.example>")
        #expect(encoded.hasPrefix("=?utf-8?B?") && encoded.hasSuffix("?= <aide@support.example>"))
        #expect(encoded.allSatisfy { $0.isASCII })
        #expect(MailMessage.addressHeader("Evil\r\nBcc: x@y.example <a@b.example>") == "\"Evil  Bcc: x@y.example\" <a@b.example>")
    }
}
