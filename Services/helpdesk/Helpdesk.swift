import ArgumentParser

@main
struct Helpdesk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helpdesk",
        abstract: "HelpdeskSLA operator tool.",
        subcommands: [BrokerCommand.self, TailCommand.self, BenchCommand.self])
}
