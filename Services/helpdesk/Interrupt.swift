import UnixSignals

/// Waits for Ctrl-C or SIGTERM, through service-lifecycle's signal sequence (which traps them,
/// so they no longer end the process on their own).
func waitForInterrupt() async -> UnixSignal {
    for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return signal }
    return .sigterm
}
