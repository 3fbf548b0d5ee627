import Dispatch
import Foundation

/// Waits for the first of the given signals (which are then no longer fatal to the process).
enum Signals {
    static func first(of signals: [Int32]) async -> Int32 {
        await withCheckedContinuation { continuation in
            let once = OnceFlag()
            var sources = [DispatchSourceSignal]()
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    if once.claim() { continuation.resume(returning: number) }
                }
                source.resume()
                sources.append(source)
            }
            SignalSources.keep(sources)
        }
    }
}

/// Keeps dispatch sources alive for the process's lifetime.
private enum SignalSources {
    nonisolated(unsafe) private static var retained: [DispatchSourceSignal] = []
    private static let lock = NSLock()
    static func keep(_ sources: [DispatchSourceSignal]) {
        lock.withLock { retained += sources }
    }
}

final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    func claim() -> Bool {
        lock.withLock {
            defer { claimed = true }
            return !claimed
        }
    }
}
