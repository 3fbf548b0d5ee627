import Foundation
import HelpdeskModel

/// The history store: tickets' current state and their timelines, behind one protocol with a
/// SQLite (`SQLiteHistory`) and a PostgreSQL (`PostgresHistory`) implementation. Both pass the
/// same contract suite (`HistoryContractTests`).
public protocol HistoryRepository: Sendable {
    /// Applies a batch of events in one transaction: each event not stored yet (by `eventId`)
    /// joins its ticket's timeline and is folded into the ticket's row. Returns how many were
    /// new. When this returns, the batch is durable; when it throws, nothing of it was written.
    @discardableResult
    func apply(_ events: [HistoryEvent]) async throws -> Int
    /// A ticket's row and its timeline, in event-time order.
    func ticket(_ ticketId: String) async throws -> TicketHistory?
    /// Open tickets, the least time left first (no clock last), a page at a time.
    func openTickets(_ query: OpenTicketQuery) async throws -> TicketPage
    /// The rows of these tickets (those stored), in no particular order.
    func tickets(_ ticketIds: [String]) async throws -> [TicketRecord]
    /// Which tickets each committed batch changes, from whichever instance projected it.
    var changes: TicketChanges { get }
    /// Tickets whose deadline passed unmet within `range`, by deadline.
    func breaches(_ query: BreachQuery) async throws -> TicketPage
    /// The closed clocks (met or breached) that started within `range`.
    func attainmentSamples(startedIn range: Range<Date>) async throws -> [AttainmentSample]
    /// Every ticket row, in ticket id order: what the rebuild test compares.
    func allTickets() async throws -> [TicketRecord]
    /// How many events the store holds.
    func eventCount() async throws -> Int
    /// Returns once the store answers with this build's schema (migrating it if needed).
    func ready() async throws
}

extension HistoryRepository {
    /// A store that is ready once it exists (SQLite migrates as it opens).
    public func ready() async throws {}
}

/// A timeline entry: what happened, when, and the event as it came.
public struct TimelineEntry: Sendable, Equatable {
    public var eventId: String
    public var type: String
    public var at: Date
    public var topic: String
    public var summary: String
    public var body: String

    public init(eventId: String, type: String, at: Date, topic: String, summary: String, body: String) {
        self.eventId = eventId
        self.type = type
        self.at = at
        self.topic = topic
        self.summary = summary
        self.body = body
    }
}

public struct TicketHistory: Sendable, Equatable {
    public var ticket: TicketRecord
    public var timeline: [TimelineEntry]

    public init(ticket: TicketRecord, timeline: [TimelineEntry]) {
        self.ticket = ticket
        self.timeline = timeline
    }
}

/// Where a page ends: the sort key and the ticket id of its last row. On the wire it is
/// `<key>~<ticketId>`; any such position is a valid place to start a page after.
public struct PageCursor: Sendable, Equatable {
    public var key: Int64
    public var ticketId: String

    public init(key: Int64, ticketId: String) {
        self.key = key
        self.ticketId = ticketId
    }

    /// `-?[0-9]{1,19}~` and 1 to 200 characters other than a line feed or NUL. A key beyond the
    /// 64-bit range stands for the range's end.
    public init?(token: String) {
        // Scalars, not characters: a combining mark or an emoji modifier after `~` makes one
        // character of the two.
        let scalars = token.unicodeScalars
        guard let tilde = scalars.firstIndex(of: "~") else { return nil }
        let digits = String(scalars[..<tilde])
        let negative = digits.hasPrefix("-")
        let magnitude = negative ? digits.dropFirst() : digits[...]
        guard (1...19).contains(magnitude.utf8.count), magnitude.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let key = Int64(digits) ?? (negative ? Int64.min : Int64.max)
        let id = String(scalars[scalars.index(after: tilde)...])
        guard (1...200).contains(id.unicodeScalars.count), !id.unicodeScalars.contains("\n"), !id.unicodeScalars.contains("\u{0}")
        else { return nil }
        self.init(key: key, ticketId: id)
    }

    public var token: String { "\(key)~\(ticketId)" }
}

public struct TicketPage: Sendable, Equatable {
    public var tickets: [TicketRecord]
    /// The cursor of the next page; nil on the last.
    public var next: PageCursor?

    public init(tickets: [TicketRecord], next: PageCursor?) {
        self.tickets = tickets
        self.next = next
    }
}

public struct OpenTicketQuery: Sendable, Equatable {
    public var severity: Severity?
    public var clock: ClockState?
    public var organizationId: String?
    public var escalation: EscalationState?
    /// The assignee in force (`TicketRecord.assignee`).
    public var assignee: String?
    /// Only tickets still waiting for their first response (the console's board).
    public var awaitingResponse = false
    public var limit: Int
    public var after: PageCursor?

    public static let maxLimit = 500

    public init(
        severity: Severity? = nil, clock: ClockState? = nil, organizationId: String? = nil, escalation: EscalationState? = nil,
        assignee: String? = nil, awaitingResponse: Bool = false, limit: Int = 50, after: PageCursor? = nil
    ) {
        self.awaitingResponse = awaitingResponse
        self.severity = severity
        self.clock = clock
        self.organizationId = organizationId
        self.escalation = escalation
        self.assignee = assignee
        self.limit = limit
        self.after = after
    }
}

extension OpenTicketQuery {
    /// Whether `row` is one this query lists, whatever the page: what the stores' SQL selects.
    public func matches(_ row: TicketRecord) -> Bool {
        row.isOpen && (severity == nil || row.severity == severity) && (clock == nil || row.clock == clock)
            && (organizationId == nil || row.organizationId == organizationId)
            && (escalation == nil || row.escalation == escalation) && (assignee == nil || row.assignee == assignee)
            && (!awaitingResponse || (row.respondedAt == nil && row.clock != .met))
    }
}

public struct BreachQuery: Sendable, Equatable {
    public var range: Range<Date>
    public var limit: Int
    public var after: PageCursor?

    public init(range: Range<Date>, limit: Int = 100, after: PageCursor? = nil) {
        self.range = range
        self.limit = limit
        self.after = after
    }
}

extension TicketRecord {
    /// The open-ticket page's sort key: the deadline's epoch second while the clock runs or has
    /// breached unanswered; last otherwise (no clock yet, or the first response given).
    public var dueSortKey: Int64 {
        guard clock == .running || (clock == .breached && respondedAt == nil), let dueAt else { return Int64.max }
        return dueAt.epochSeconds
    }
}
