import Foundation
import HeapModule
import HelpdeskModel

/// The deadlines of one partition's clocks, earliest first (swift-collections' `Heap`). Entries
/// are not removed when a clock's deadline moves: a stale entry is recognised and skipped when
/// it comes up, which keeps every update O(log n).
struct DeadlineQueue {
    private struct Entry: Comparable {
        let seconds: Int64
        let ticket: TicketID

        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.seconds < rhs.seconds }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.seconds == rhs.seconds }
    }

    private var heap = Heap<Entry>()

    var count: Int { heap.count }
    var earliest: Date? { heap.min.map { Date(timeIntervalSince1970: TimeInterval($0.seconds)) } }

    mutating func insert(_ deadline: Date, for ticket: TicketID) {
        heap.insert(Entry(seconds: deadline.epochSeconds, ticket: ticket))
    }

    /// Removes and returns the tickets whose entries are due at or before `now`, with the
    /// instant each entry was due.
    mutating func popDue(_ now: Date) -> [(ticket: TicketID, due: Date)] {
        let limit = now.epochSeconds
        var due = [(ticket: TicketID, due: Date)]()
        while let first = heap.min, first.seconds <= limit {
            due.append((first.ticket, Date(timeIntervalSince1970: TimeInterval(first.seconds))))
            heap.removeMin()
        }
        return due
    }

    mutating func removeAll() { heap = Heap() }
}
