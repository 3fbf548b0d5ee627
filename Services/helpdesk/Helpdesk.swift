import ArgumentParser
import Foundation

@main
struct Helpdesk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helpdesk",
        abstract: "HelpdeskSLA operator tool.",
        subcommands: [DevCommand.self, WatchCommand.self, SLACommand.self, ReportCommand.self, ClassifyCommand.self, SendCommand.self, TailCommand.self, BrokerCommand.self, BenchCommand.self])

    /// Bad input gets one line on stderr and a non-zero exit; help and explicit exits behave as usual.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)
            }
            FileHandle.standardError.write(Data("helpdesk: \(message(for: error))\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
