/// The end-to-end runs time breaches to the second, and the Chromium test loads the two cores
/// with a browser and a whole stack: runs that take `exclusive` never overlap (first come,
/// first served). Other suites still run beside them.
actor MachineLoad {
    static let shared = MachineLoad()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }

    static func exclusive<T>(_ body: () async throws -> T) async throws -> T {
        await shared.acquire()
        do {
            let result = try await body()
            await shared.release()
            return result
        } catch {
            await shared.release()
            throw error
        }
    }
}
