import Foundation
import HelpdeskModel
import Testing
import TestSupport

@Suite("Hostile input")
struct HostileInputTests {
    @Test func timeConversionsAreTotal() {
        #expect(Int64(saturating: .nan) == 0)
        #expect(Int64(saturating: .infinity) == .max)
        #expect(Int64(saturating: -.infinity) == .min)
        #expect(Int64(saturating: 1e300) == .max)
        #expect(Int64(saturating: -2.5) == -3)
        // What trapped the sla-timer: a firing lag of two thousand years in nanoseconds.
        let ancient = ISO8601.parse("0001-01-01T00:00:00Z")!
        #expect(Date().timeIntervalSince(ancient).saturatingNanoseconds == .max)
        #expect(ancient.epochSeconds == -62_135_596_800)
        #expect(ISO8601.format(ancient) == "0001-01-01T00:00:00Z")
        #expect(Date.distantFuture.epochSeconds > 0)
    }

    @Test func instantsOutsideTheYears1To9999AreRefusedAndNeverTrap() {
        // The year 0000 with a positive offset is the year -1: it crashed every service that formatted it.
        #expect(ISO8601.parse("0000-01-01T00:00:00+00:01") == nil)
        #expect(ISO8601.parse("0000-12-31T23:59:59Z") == nil)
        #expect(ISO8601.parse("9999-12-31T23:59:59-00:01") == nil, "the year 10000")
        #expect(ISO8601.parse("0001-01-01T00:00:00Z") != nil)
        #expect(ISO8601.parse("9999-12-31T23:59:59Z") != nil)
        // A deadline computed past the year 9999 is written as its end, and reads back.
        let beyond = ISO8601.parse("9999-12-31T23:59:59Z")!.addingTimeInterval(3 * 86_400)
        #expect(ISO8601.format(beyond) == "9999-12-31T23:59:59Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: -1e12)) == "0001-01-01T00:00:00Z")
        #expect(ISO8601.format(.distantFuture) == "4001-01-01T00:00:00Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59Z")
        // Nor does the intake window, which formats the instant it refuses.
        #expect(InstantWindow.standard.problem(with: Date(timeIntervalSince1970: -1e13), receipt: Date()) != nil)
    }

    @Test func arithmeticOnFarInstantsDoesNotTrap() {
        var clock = newClock()
        let ancient = ISO8601.parse("0001-01-01T00:00:00Z")!
        let started = clock.apply(.classified(severity: .minor, openedAt: ancient, eventId: classifiedID), policy: .standard)
        #expect(types(started) == ["started"])
        #expect(types(clock.apply(.tick(now: at("2026-03-06T23:30:00Z")), policy: .standard)) == ["breached"])
        #expect(clock.phase == .breached)
        let status = SLAClockStatus(clock, now: at("2026-03-06T23:30:00Z"), policy: .standard)
        #expect(status.state == .breached)
    }

    @Test func aReplyDatedBeforeTheStartCountsAtTheStart() {
        var clock = newClock()
        _ = clock.apply(.agentReplied(at: at("1970-01-01T00:00:00Z")), policy: .standard)
        let outputs = clock.apply(.classified(severity: .critical, openedAt: at("2026-03-06T23:30:00Z"), eventId: classifiedID),
                                  policy: .standard)
        guard case .met(let met, _)? = outputs.last else {
            Issue.record("expected sla.met, got \(types(outputs))")
            return
        }
        #expect(met.respondedAt == at("2026-03-06T23:30:00Z"))
        #expect(met.businessSecondsUsed == 0)
    }

    @Test func instantsOlderThanTheWindowAreRefusedNamingTheField() throws {
        let receipt = at("2026-03-06T23:30:00Z")
        let ticket = try InboundMessage.decode(Array(#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"s","openedAt":"1970-01-01T00:00:00Z"}"#.utf8))
        let errors = ticket.instantErrors(receipt: receipt, window: .standard)
        #expect(errors.map(\.field) == ["openedAt"])
        #expect(errors.first?.problem == "1970-01-01T00:00:00Z is more than 7 days before it was received (2026-03-06T23:30:00Z); "
            + "the earliest accepted is 2026-02-27T23:30:00Z")
        let recent = try InboundMessage.decode(Array(#"{"type":"ticket.message","source":"crm","externalId":"1","author":{"role":"agent"},"sentAt":"2026-02-28T00:00:00Z"}"#.utf8))
        #expect(recent.instantErrors(receipt: receipt, window: .standard).isEmpty)
        #expect(InstantWindow(maxPast: .seconds(3600)).problem(with: at("2026-03-06T22:29:59Z"), receipt: receipt) != nil)
    }

    @Test func lengthLimitsCountBytesToo() {
        // 200 characters, each an "e" carrying 300 combining acute accents: 120 KB.
        let heavy = String(repeating: "e" + String(repeating: "\u{301}", count: 300), count: 200)
        #expect(heavy.count == 200)
        let json = #"{"type":"ticket.opened","source":"crm","externalId":"\#(heavy)","organizationId":"acme","subject":"s"}"#
        #expect(throws: InboundRejection.invalidFields([
            FieldError(field: "externalId", problem: "is \(heavy.utf8.count) bytes long in UTF-8, the limit is 800"),
        ])) { try InboundMessage.decode(Array(json.utf8)) }
        // Ordinary multi-byte text within the character limit still passes.
        let accented = String(repeating: "é", count: 200)
        #expect((try? InboundMessage.decode(Array(#"{"type":"ticket.opened","source":"crm","externalId":"\#(accented)","organizationId":"acme","subject":"s"}"#.utf8))) != nil)
    }

    @Test func terminalTextEscapesControlsAndOverridesOnly() {
        #expect(TerminalText.escaped("plain é ✓") == "plain é ✓")
        #expect(TerminalText.escaped("a\nb\r\tc") == #"a\nb\r\tc"#)
        #expect(TerminalText.escaped("\u{1B}[2Jwiped") == #"\u{1B}[2Jwiped"#)
        #expect(TerminalText.escaped("x\u{202E}gnp.exe\u{0}\u{9B}") == #"x\u{202E}gnp.exe\u{0}\u{9B}"#)
    }

    /// A bounded fuzz run (FUZZ_SECONDS, 3 s by default; FUZZ_SEED to replay): the decoder
    /// answers every input with a message or a rejection, never a crash, and a rejection always
    /// has a code and a sentence.
    @Test func theInboundDecoderSurvivesRandomAndMutatedBytes() async {
        let fuzz = FuzzRun(seconds: 3)
        let (runs, accepted) = await fuzz.run(minimumRuns: 1000) { random in
            let bytes = FuzzInputs.next(&random)
            do throws(InboundRejection) {
                _ = try InboundMessage.decode(bytes).instantErrors(receipt: Date(), window: .standard)
                return true
            } catch {
                #expect(!error.code.isEmpty && !error.description.isEmpty, "seed \(fuzz.seed), input \(bytes)")
                return false
            }
        }
        print("fuzzed the inbound decoder with \(runs) inputs (\(accepted) accepted), seed \(fuzz.seed)")
    }
}
