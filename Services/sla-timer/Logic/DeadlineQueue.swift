import Foundation
import HelpdeskModel

/// The deadlines of one partition's clocks, earliest first (a binary min-heap). Entries are
/// not removed when a clock's deadline moves: a stale entry is recognised and skipped when it
/// comes up, which keeps every update O(log n).
struct DeadlineQueue {
    private struct Entry {
        let seconds: Int64
        let ticket: TicketID
    }

    private var heap: [Entry] = []

    var count: Int { heap.count }
    var earliest: Date? { heap.first.map { Date(timeIntervalSince1970: TimeInterval($0.seconds)) } }

    mutating func insert(_ deadline: Date, for ticket: TicketID) {
        heap.append(Entry(seconds: deadline.epochSeconds, ticket: ticket))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].seconds < heap[parent].seconds else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the tickets whose entries are due at or before `now`, with the
    /// instant each entry was due.
    mutating func popDue(_ now: Date) -> [(ticket: TicketID, due: Date)] {
        let limit = now.epochSeconds
        var due = [(ticket: TicketID, due: Date)]()
        while let first = heap.first, first.seconds <= limit {
            due.append((first.ticket, Date(timeIntervalSince1970: TimeInterval(first.seconds))))
            removeFirst()
        }
        return due
    }

    mutating func removeAll() { heap.removeAll() }

    private mutating func removeFirst() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].seconds < heap[smallest].seconds { smallest = left }
            if right < heap.count, heap[right].seconds < heap[smallest].seconds { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
