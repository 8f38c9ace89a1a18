/// What a reload does, decided from the old and the new configuration.
public struct ReloadPlan: Equatable, Sendable {
    public var added: [Config.Console] = []
    public var removed: [String] = []
    public var changed: [Config.Console] = []
    public var unchanged: [String] = []
    public var pathsChanged: Bool

    public init(old: Config, new: Config) {
        pathsChanged = old.paths.ofConsoles != new.paths.ofConsoles
        let before = Dictionary(old.consoles.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let names = Set(new.consoles.map(\.name))
        for console in new.consoles {
            switch before[console.name] {
            case nil: added.append(console)
            case let previous? where previous != console: changed.append(console)
            default: unchanged.append(console.name)
            }
        }
        removed = old.consoles.map(\.name).filter { !names.contains($0) }
    }
}
