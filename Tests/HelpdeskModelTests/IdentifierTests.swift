import Foundation
import HelpdeskModel
import Testing

@Suite struct IdentifierTests {
    @Test func sha256MatchesFIPSVectors() {
        #expect(SHA256.hexDigest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            Hex.encode(SHA256.digest(Array(repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func ticketIDIsDeterministicAndSeparatesItsParts() {
        let id = TicketID(source: "crm", externalId: "CRM-1042")
        #expect(id == TicketID(source: "crm", externalId: "CRM-1042"))
        #expect(id.rawValue.hasPrefix("tk_") && id.rawValue.count == 27)
        #expect(id != TicketID(source: "mail", externalId: "CRM-1042"))
        #expect(TicketID(source: "a", externalId: "b/c") != TicketID(source: "a/b", externalId: "c"))
    }

    @Test func ticketIDTextRoundTripsWhateverItsForm() throws {
        let derived = TicketID(source: "crm", externalId: "CRM-1042")
        // The digest of "crm\0CRM-1042", first 12 bytes.
        let digest = Hex.encode(SHA256.digest(Array("crm".utf8) + [0] + Array("CRM-1042".utf8)).prefix(12))
        #expect(derived.rawValue == "tk_" + digest)
        #expect(TicketID(rawValue: derived.rawValue) == derived)
        #expect(TicketID(rawValue: derived.rawValue).hashValue == derived.hashValue)
        // Text that is not a derived id is kept exactly and never equals one.
        for text in ["tk_1", "tk_" + digest.uppercased(), "xx_" + digest, ""] {
            #expect(TicketID(rawValue: text).rawValue == text)
            #expect(TicketID(rawValue: text) != derived)
        }
        let decoded = try WireJSON.decode([TicketID].self, from: WireJSON.encode([derived, TicketID(rawValue: "tk_1")]))
        #expect(decoded == [derived, TicketID(rawValue: "tk_1")])
    }

    /// Ticket ids order as their text does, derived or not (derived ones without building it).
    @Test func ticketIDsOrderAsTheirText() {
        let ids = (0..<400).map { TicketID(source: "crm", externalId: "T-\($0)") }
            + ["tk_", "tk_zz", "A-1", "tk_000000000000000000000000", "tk_ffffffffffffffffffffffff"].map(TicketID.init(rawValue:))
        for a in ids.prefix(60) {
            for b in ids { #expect((a < b) == (a.rawValue < b.rawValue), "\(a) \(b)") }
        }
        #expect(ids.sorted().map(\.rawValue) == ids.map(\.rawValue).sorted())
    }

    @Test func eventIDIsAUUIDDerivedFromItsParts() throws {
        let id = EventID.derive(["intake", "ticket.received", "tk_1", "offset-7"])
        #expect(id == EventID.derive(["intake", "ticket.received", "tk_1", "offset-7"]))
        // Pinned: ids already on topics must not change between versions (computed independently with Python's hashlib).
        #expect(id.rawValue == "d7b854bb-b5b6-879c-abf2-173653c1716b")
        #expect(id != EventID.derive(["intake", "ticket.received", "tk_1", "offset-8"]))
        #expect(EventID.derive(["ab", "c"]) != EventID.derive(["a", "bc"]))
        let uuid = try #require(UUID(uuidString: id.rawValue))
        #expect(uuid.uuidString.lowercased() == id.rawValue)
        #expect(Array(id.rawValue)[14] == "8")  // version 8: custom
    }

    @Test(arguments: ["critical", "CRITICAL", "1"]) func severityParsesNamesAndLevels(text: String) {
        #expect(Severity(parsing: text) == .critical)
    }

    @Test func severityRejectsOtherSpellingsAndOrdersByUrgency() {
        #expect(Severity(parsing: "4") == nil)
        #expect(Severity(parsing: "urgent") == nil)
        #expect(Severity(parsing: "2") == .major)
        #expect(Severity(parsing: "minor") == .minor)
        #expect([Severity.minor, .critical, .major].max() == .critical)
    }
}

@Suite struct ISO8601Tests {
    @Test(arguments: [
        ("2026-03-06T23:30:00Z", 1_772_839_800.0),
        ("2026-03-06T16:30:00-07:00", 1_772_839_800.0),
        ("2026-03-06T23:30:00.999Z", 1_772_839_800.0),
        ("1970-01-01T00:00:00Z", 0.0),
        ("2024-02-29T12:00:00+01:00", 1_709_204_400.0),
    ])
    func parses(text: String, seconds: Double) {
        #expect(ISO8601.parse(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "2026-03-06T23:30:00", "2026-03-06 23:30:00Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-03-06T24:00:00Z", "2026-03-06T23:30:00+25:00", "yesterday", "", "2026-03-06T23:30:00.Z",
        "2026-03-06T23:30:00Zjunk",
    ])
    func rejects(text: String) {
        #expect(ISO8601.parse(text) == nil)
    }

    @Test func formatsUTCToTheSecondAndRoundTrips() {
        #expect(ISO8601.format(Date(timeIntervalSince1970: 1_772_839_800.75)) == "2026-03-06T23:30:00Z")
        #expect(ISO8601.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
        for seconds in stride(from: -86_400.0 * 800, to: 86_400.0 * 40_000, by: 86_400.0 * 37 + 3_601) {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(ISO8601.parse(ISO8601.format(date)) == date)
        }
    }
}
