import ArgumentParser
import RTTYCore

@main
struct RTTYD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rttyd", abstract: "The rtty console server.", version: RTTYVersion.string)
    func run() async throws {}
}
