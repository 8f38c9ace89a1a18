import ArgumentParser
import RTTYCore

@main
struct RTTY: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rtty", abstract: "Attach to an rtty console.", version: RTTYVersion.string)
    func run() async throws {}
}
