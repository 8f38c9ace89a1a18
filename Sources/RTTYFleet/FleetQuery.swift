import RTTYCore
import Subprocess

/// One question put to every host of a fleet at once (`list --json`, `rttyctl --json
/// status`), each over its own ssh. A host that has not answered when the fleet's timeout
/// runs out is given up on (its ssh is ended) and reported as such; it never holds up the
/// others, whose answers are kept in the fleet file's order.
public enum FleetQuery {
    /// At most this much of a host's answer is read; a larger one is an error.
    public static let maxAnswerBytes = 16 << 20
    public static let maxErrorBytes = 64 << 10

    public enum Outcome: Sendable {
        /// ssh ran the remote command and it exited 0: what it printed.
        case answered([UInt8])
        /// ssh or the remote command failed: its exit status (255: ssh itself) and the
        /// last line it printed on stderr.
        case failed(status: Int32?, message: String)
        /// No answer within the timeout.
        case noAnswer(seconds: Double)
    }

    /// Why a host gave no usable answer, worded for a listing row.
    public struct Failure: Error, Sendable {
        public let message: String

        public init(_ message: String) { self.message = message }
    }

    public struct Answer: Sendable {
        public let host: Fleet.Host
        public let outcome: Outcome
        /// Seconds from start to answer.
        public let seconds: Double

        /// What the host printed, or why there is nothing: no answer within the fleet's
        /// timeout, ssh's failure (255) or the remote command's, with the reason.
        public func output(timeout: Double) -> Result<[UInt8], Failure> {
            switch outcome {
            case .answered(let bytes): .success(bytes)
            case .noAnswer: .failure(Failure("no answer within \(timeout) s"))
            case .failed(let status, let message):
                .failure(Failure("\(status == 255 ? "ssh failed" : status.map { "exit status \($0)" } ?? "failed"): \(message)"))
            }
        }
    }

    public static func ask(_ fleet: Fleet, ssh: FleetSSH, remote: [String]) async -> [Answer] {
        await ask(fleet, ssh: ssh, remote: { _ in remote })
    }

    /// `remote` gives each host's own words (rttyctl's path may differ by group).
    public static func ask(_ fleet: Fleet, ssh: FleetSSH, remote: (Fleet.Host) -> [String]) async -> [Answer] {
        let answers = await withTaskGroup(of: Answer.self) { group in
            for host in fleet.hosts {
                let argv = ssh.arguments(for: host, remote: remote(host), terminal: false, batch: true, connectTimeout: fleet.timeout)
                group.addTask { await ask(host, argv, timeout: fleet.timeout) }
            }
            var answers: [String: Answer] = [:]
            for await answer in group { answers[answer.host.name] = answer }
            return answers
        }
        return fleet.hosts.compactMap { answers[$0.name] }
    }

    private static func ask(_ host: Fleet.Host, _ argv: [String], timeout: Double) async -> Answer {
        let start = ContinuousClock.now
        let outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { await run(argv) }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                return nil
            }
            let first = await group.next() ?? nil
            // Cancelling the run ends its ssh (Subprocess's teardown: SIGTERM, then SIGKILL).
            group.cancelAll()
            return first ?? .noAnswer(seconds: timeout)
        }
        let elapsed = ContinuousClock.now - start
        return Answer(host: host, outcome: outcome, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    private static func run(_ argv: [String]) async -> Outcome {
        do {
            let result = try await Subprocess.run(
                .name(argv[0]), arguments: Arguments(Array(argv.dropFirst())), input: .none,
                output: .bytes(limit: maxAnswerBytes), error: .bytes(limit: maxErrorBytes))
            switch result.terminationStatus {
            case .exited(0):
                return .answered(result.standardOutput)
            case .exited(let code):
                return .failed(status: code, message: lastLine(result.standardError))
            case .signaled(let signal):
                return .failed(status: nil, message: "ssh was killed by signal \(signal)")
            }
        } catch {
            if Task.isCancelled { return .noAnswer(seconds: 0) }
            return .failed(status: nil, message: "cannot run ssh: \(error)")
        }
    }

    /// What ssh said last (its reason), made inert for a terminal.
    static func lastLine(_ bytes: [UInt8]) -> String {
        let lines = bytes.split(separator: 10).map { TerminalText.escaped($0.filter { $0 != 13 }) }.filter { !$0.isEmpty }
        return lines.last ?? "no message"
    }
}
