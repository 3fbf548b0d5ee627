import Foundation
import HelpdeskModel
import Testing

@Suite struct InboundDecodingTests {
    let designExample = """
        { "type": "ticket.opened", "source": "crm", "externalId": "CRM-1042",
          "organizationId": "acme", "subject": "SSO login fails for everyone",
          "description": "...", "requester": { "name": "A. Requester", "email": "it-admin@acme.test" },
          "reportedSeverity": "critical",
          "impact": { "serviceDown": true, "usersAffected": "majority",
                      "workaround": "none", "installations": "unaffected",
                      "cosmetic": false, "dedicatedContact": "ops@acme.test" },
          "category": "incident", "openedAt": "2026-03-06T23:30:00Z" }
        """

    func decode(_ json: String, defaultKind: InboundMessage.Kind? = nil) throws(InboundRejection) -> InboundMessage {
        try InboundMessage.decode(Array(json.utf8), defaultKind: defaultKind)
    }

    func fieldErrors(_ json: String) -> [String] {
        do {
            _ = try decode(json)
            return []
        } catch {
            return error.fieldErrors.map(\.description)
        }
    }

    @Test func decodesTheDesignExample() throws {
        guard case .opened(let ticket) = try decode(designExample) else {
            Issue.record("expected ticket.opened")
            return
        }
        #expect(ticket.source == "crm")
        #expect(ticket.externalId == "CRM-1042")
        #expect(ticket.organizationId == "acme")
        #expect(ticket.requester == Requester(name: "A. Requester", email: "it-admin@acme.test"))
        #expect(ticket.reportedSeverity == .critical)
        #expect(ticket.impact == Impact(serviceDown: true, usersAffected: .majority, workaround: Workaround.none,
                                        installations: .unaffected, cosmetic: false, dedicatedContact: "ops@acme.test"))
        #expect(ticket.category == .incident)
        #expect(ticket.openedAt == ISO8601.parse("2026-03-06T23:30:00Z"))
    }

    @Test func onlyFiveFieldsAreRequiredToOpenATicket() throws {
        let message = try decode(#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"Help"}"#)
        #expect(message.kind == .opened)
        #expect(message.ticketId == TicketID(source: "crm", externalId: "1"))
    }

    @Test func everyMissingRequiredFieldIsNamed() {
        #expect(fieldErrors(#"{"type":"ticket.opened"}"#) == [
            "source: is required", "externalId: is required", "organizationId: is required", "subject: is required",
        ])
        #expect(fieldErrors(#"{"source":"crm","externalId":"1"}"#) == ["type: is required"])
    }

    @Test func wrongTypesUnknownValuesAndBadInstantsAreNamedPrecisely() {
        let errors = fieldErrors("""
            {"type":"ticket.opened","source":"crm","externalId":7,"organizationId":"acme","subject":"x",
             "reportedSeverity":"urgent","impact":{"serviceDown":"yes","usersAffected":"lots"},
             "category":"incident","openedAt":"last tuesday","requester":[]}
            """)
        #expect(errors == [
            "externalId: must be a string, found a number",
            "requester: must be an object, found an array",
            "reportedSeverity: \"urgent\" is not one of critical|major|minor|1|2|3",
            "impact.serviceDown: must be true or false, found a string",
            "impact.usersAffected: \"lots\" is not one of all|majority|multiple|few|one",
            "openedAt: \"last tuesday\" is not an ISO-8601 instant with a time zone (e.g. 2026-03-06T23:30:00Z)",
        ])
    }

    @Test func unknownTypeIsRejectedWithTheAllowedList() {
        #expect(fieldErrors(#"{"type":"ticket.deleted","source":"crm","externalId":"1"}"#) == [
            "type: \"ticket.deleted\" is not one of ticket.opened|ticket.message|ticket.severityChanged|ticket.statusChanged|ticket.assigned|agent.shiftStarted|agent.shiftEnded"
        ])
    }

    /// The field errors of a `ticket.opened` whose subject is `subject`, written into the JSON as it is.
    func subjectErrors(_ subject: String) -> [String] {
        fieldErrors(#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"a","subject":"\#(subject)"}"#)
    }

    @Test func oversizeTextIsRejected() {
        #expect(subjectErrors(String(repeating: "x", count: InboundLimits.maxSubjectLength + 1))
            == ["subject: is 1001 characters long, the limit is 1000"])
    }

    @Test func blankTextIsRejectedWhateverItsWhitespace() {
        // Tab, newline, space, no-break space, em space, line separator: all blank.
        #expect(subjectErrors(#"\t\n \u00a0\u2003\u2028"#) == ["subject: must not be empty"])
        #expect(subjectErrors("\u{00A0}\u{2003}") == ["subject: must not be empty"])
        #expect(subjectErrors("") == ["subject: must not be empty"])
        #expect(subjectErrors(#" \u00a0x "#) == [])
    }

    @Test func lengthLimitsCountCharactersNotBytes() {
        let limit = InboundLimits.maxSubjectLength
        // Two bytes per character, and a letter with a combining accent (three bytes, one character).
        #expect(subjectErrors(String(repeating: "é", count: limit)) == [])
        #expect(subjectErrors(String(repeating: "e\u{301}", count: limit)) == [])
        #expect(subjectErrors(String(repeating: "é", count: limit + 1)) == ["subject: is 1001 characters long, the limit is 1000"])
        #expect(subjectErrors(String(repeating: "x", count: limit)) == [])
    }

    @Test func identifiersRefuseEveryControlCharacterAndOnlyThose() {
        // Every code point up to U+3000, escaped in the JSON: refused exactly when Unicode
        // puts it in the control category (Cc), and accepted beside it (format characters,
        // separators, letters).
        for value in 0...0x3000 {
            let externalId = "A" + String(format: "\\u%04x", value) + "B"
            let errors = fieldErrors(#"{"type":"ticket.statusChanged","source":"crm","externalId":"\#(externalId)","status":"solved"}"#)
            let control = Unicode.Scalar(value)!.properties.generalCategory == .control
            #expect(errors == (control ? ["externalId: must not contain control characters"] : []), "U+\(String(value, radix: 16))")
        }
    }

    @Test func sourceMustBeASimpleName() {
        #expect(fieldErrors(#"{"type":"ticket.statusChanged","source":"CRM/x","externalId":"1","status":"solved"}"#)
            == [#"source: "CRM/x" may hold only a-z, 0-9, '.', '_' and '-'"#])
    }

    @Test func recordLevelProblemsComeBeforeFields() {
        #expect(throws: InboundRejection.empty) { try InboundMessage.decode([]) }
        #expect(throws: InboundRejection.notUTF8) { try InboundMessage.decode([0x7B, 0xFF, 0x7D]) }
        #expect(throws: InboundRejection.tooLarge(bytes: 11, limit: 10)) {
            try InboundMessage.decode(Array("{\"a\":12345}".utf8), maxBytes: 10)
        }
        #expect(throws: InboundRejection.notAnObject(found: "an array")) { try InboundMessage.decode(Array("[1]".utf8)) }
        do {
            _ = try decode("{not json")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.code == "not_json")
            #expect(error.description.hasPrefix("the record is not JSON: expected a member name at byte 1"))
        }
    }

    @Test func deepNestingAndHugeNumbersAreRefused() {
        let bomb = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect((try? decode(bomb)) == nil)
        do {
            _ = try decode(bomb)
        } catch {
            #expect(error.description.contains("nesting deeper than 32 levels"))
        }
        do {
            _ = try decode(#"{"type":"ticket.opened","n":1e999999}"#)
        } catch {
            #expect(error.description.contains("number out of range"))
        }
    }

    @Test func duplicateMembersAreRefused() {
        do {
            _ = try decode(#"{"source":"a","source":"b"}"#)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.description.contains("duplicate member \"source\""))
        }
    }

    @Test func activityMessagesDecodeWithDefaults() throws {
        let message = try decode(#"{"type":"ticket.message","source":"mail","externalId":"CRM-1042","author":{"role":"agent","email":"sam@support.example"},"body":"On it","cc":["A <a@b.c>"]}"#)
        guard case .message(let posted) = message else {
            Issue.record("expected ticket.message")
            return
        }
        #expect(posted.author.role == .agent)
        #expect(posted.isPublic)
        #expect(posted.cc == ["A <a@b.c>"])
        #expect(posted.sentAt == nil)

        let change = try decode(#"{"source":"crm","externalId":"1","severity":2}"#, defaultKind: .severityChanged)
        #expect(change == .severityChanged(SeverityChange(source: "crm", externalId: "1", severity: .major)))
        let status = try decode(#"{"type":"ticket.statusChanged","source":"crm","externalId":"1","status":"onHold"}"#)
        #expect(status == .statusChanged(StatusChange(source: "crm", externalId: "1", status: .onHold)))
        #expect(fieldErrors(#"{"type":"ticket.message","source":"crm","externalId":"1","author":{"role":"bot"}}"#)
            == ["author.role: \"bot\" is not one of agent|customer|system"])
    }

    @Test func jsonStringEscapesDecode() throws {
        let value = try JSONParser.parse(Array(#"{"s":"a\"b\\c\n\u00e9\ud83d\ude00"}"#.utf8))
        #expect(value == .object(["s": .string("a\"b\\c\né😀")]))
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(#""\ud83d""#.utf8)) }
    }

    @Test func jsonStringsAreUTF8CheckedWithOrWithoutEscapes() throws {
        #expect(try JSONParser.parse(Array(#"["plain ascii","Grüße, 東京 😀"]"#.utf8))
            == .array([.string("plain ascii"), .string("Grüße, 東京 😀")]))
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), n = UInt8(ascii: "n")
        // A lone continuation byte, a truncated sequence, an overlong encoding: refused with
        // or without an escape earlier in the string.
        for invalid: [UInt8] in [[0x80], [0xC3], [0xC0, 0xAF], [0x61, 0xE2, 0x82]] {
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([quote] + invalid + [quote]) }
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([quote, backslash, n] + invalid + [quote]) }
        }
    }
}
