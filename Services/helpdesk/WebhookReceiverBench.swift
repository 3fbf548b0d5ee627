import ArgumentParser
import Foundation
import Hummingbird

/// `helpdesk bench receiver`: a webhook receiver for the notifier benchmark (a real HTTP server
/// on loopback that answers every POST 200 at once). Prints `READY <port>`; runs until killed.
struct WebhookReceiverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receiver", abstract: "Answer every webhook POST with 200 (for scripts/bench-notifier.sh).")

    @Option(help: "The port (0: any free one).")
    var port = 0

    func run() async throws {
        let router = Router()
        router.post("**") { request, _ -> HTTPResponse.Status in
            _ = try await request.body.collect(upTo: 1 << 20)
            return .ok
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                print("READY \(channel.localAddress?.port ?? 0)")
                fflush(nil)
            }, logger: .init(label: "receiver"))
        try await application.runService()
    }
}
