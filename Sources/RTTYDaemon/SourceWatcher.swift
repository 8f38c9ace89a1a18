import NIOConcurrencyHelpers
import RTTYCore
import RTTYSystem

/// While a `unix` or `device` console's source is missing, its directory is watched: when
/// the socket or device node appears (a VM starts, a USB adapter is plugged in) the source
/// is opened at once, then retried quickly for a moment in case it is not listening yet.
/// QEMU and bhyve's nmdm discard serial output while nobody holds the console, and a
/// serial line nobody has open loses what arrives, so waiting for the next back-off step
/// (up to 30 s) would lose the start of a boot.
///
/// One watcher for the daemon: one inotify instance and one thread, which hands each
/// event to the consoles waiting for that name, on their own event loops.
final class SourceWatcher: Sendable {
    static let shared = SourceWatcher()

    private struct Waiting {
        var directories: [String: Int32] = [:]
        /// watch id -> entry name -> consoles waiting for it.
        var consoles: [Int32: [String: [ObjectIdentifier: SourceSupervisor]]] = [:]
    }

    private let watch: DirectoryWatch?
    private let waiting = NIOLockedValueBox(Waiting())

    private init() {
        watch = DirectoryWatch()
        guard let watch else { return }
        ReaderThread(name: "rttyd-watch") { [self] in
            while true {
                for event in watch.next() { appeared(event) }
            }
        }.start()
    }

    /// `supervisor` is told (`appeared`) when `path` appears; false when it cannot be
    /// watched (the directory is missing, no watch on this platform).
    @discardableResult
    func wait(for path: String, by supervisor: SourceSupervisor) -> Bool {
        guard let watch, let (directory, name) = Self.split(path) else { return false }
        return waiting.withLockedValue { state in
            let id: Int32
            if let known = state.directories[directory] {
                id = known
            } else {
                guard let added = try? watch.add(directory) else { return false }
                id = added
                state.directories[directory] = id
            }
            state.consoles[id, default: [:]][name, default: [:]][ObjectIdentifier(supervisor)] = supervisor
            return true
        }
    }

    /// `supervisor` no longer waits for `path` (its source is open, or it stopped).
    func stopWaiting(for path: String, by supervisor: SourceSupervisor) {
        guard let watch, let (directory, name) = Self.split(path) else { return }
        waiting.withLockedValue { state in
            guard let id = state.directories[directory] else { return }
            state.consoles[id]?[name]?[ObjectIdentifier(supervisor)] = nil
            if state.consoles[id]?[name]?.isEmpty == true { state.consoles[id]?[name] = nil }
            if state.consoles[id]?.isEmpty == true {
                state.consoles[id] = nil
                state.directories[directory] = nil
                watch.remove(id)
            }
        }
    }

    private func appeared(_ event: DirectoryWatch.Event) {
        let waiting = waiting.withLockedValue { Array(($0.consoles[event.watch]?[event.name] ?? [:]).values) }
        for supervisor in waiting {
            supervisor.eventLoop.execute { supervisor.appeared() }
        }
    }

    private static func split(_ path: String) -> (String, String)? {
        guard let slash = path.lastIndex(of: "/"), slash != path.index(before: path.endIndex) else { return nil }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, String(path[path.index(after: slash)...]))
    }
}
