import Dispatch
import FoundationEssentials
import RTTYCore
import RTTYFleet

extension ControlOptions {
    var isFleet: Bool { fleet || fleetFile != nil }
}

/// `rttyctl --fleet status` and `who` (rttyctl(8) FLEET): the same request on every host of
/// the fleet file, as `rttyctl --json REQUEST` over the admin's own ssh login, in parallel;
/// every row is prefixed with its host, a host that did not answer is a row saying so.
enum FleetControl {
    static func run(_ words: [String], _ options: ControlOptions, lines: ([ControlAnswer.Console]) -> [String]) throws {
        for word in words.dropFirst() {
            if let problem = ConsoleName.problem(word) { throw Failure("\(words[0]): \(TerminalText.escaped(word)): \(problem)") }
        }
        let fleet: Fleet
        do {
            guard let loaded = try FleetLocation.load(explicit: options.fleetFile) else {
                throw Failure("no fleet file: write \(FleetLocation.defaultPaths.joined(separator: " or ")) (rtty-fleet(5)), or name one with --fleet-file FILE")
            }
            fleet = loaded.fleet
        } catch let error as FleetLoadError {
            throw Failure(error.description)
        }
        let ssh = FleetSSH(controlDirectory: FleetSSH.userControlDirectory())
        let answers = waitFor { await FleetQuery.ask(fleet, ssh: ssh, remote: { $0.rttyctl + ["--json"] + words }) }
        var silent: [String] = []
        for answer in answers {
            let host = answer.host.name
            switch answer.output(timeout: fleet.timeout).flatMap(decode) {
            case .success(let (consoles, raw)):
                if options.json {
                    print("{\"host\":\(quoted(host)),\"ok\":true,\"answer\":\(raw)}")
                } else {
                    lines(consoles).forEach { print(host + "  " + $0) }
                }
            case .failure(let why):
                silent.append(host)
                print(options.json ? "{\"host\":\(quoted(host)),\"ok\":false,\"error\":\(quoted(why.message))}" : "\(host)  (\(why.message))")
            }
        }
        if !silent.isEmpty { throw Failure("\(silent.count) of \(answers.count) hosts did not answer: \(silent.joined(separator: ", "))") }
    }

    /// The host's answer, and its JSON as one line to pass on with --json. It is passed on
    /// only once it decoded as a whole, so what a host printed cannot break the line.
    private static func decode(_ bytes: [UInt8]) -> Result<([ControlAnswer.Console], String), FleetQuery.Failure> {
        let raw = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard raw.count == 1, let answer = try? JSONDecoder().decode(ControlAnswer.Consoles.self, from: Data(raw[0].utf8)) else {
            return .failure(.init("its answer is not rttyctl's JSON: \(TerminalText.escaped(bytes.prefix(120)))"))
        }
        return .success((answer.consoles, String(raw[0])))
    }

    private static func quoted(_ text: String) -> String {
        (try? JSONEncoder().encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    /// rttyctl's commands are synchronous; the fleet's questions are asked on the
    /// concurrency pool while this thread waits.
    private static func waitFor<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task.detached {
            box.value = await body()
            done.signal()
        }
        done.wait()
        return box.value!
    }
}

/// Written once by the task, read after the semaphore says it was.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
