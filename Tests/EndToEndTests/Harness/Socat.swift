import Foundation

/// A `socat` process, the fake serial line or fake VM socket of many tests.
final class Socat {
    let process = Process()

    init(_ arguments: [String]) throws {
        guard let path = Socat.executable else {
            throw HarnessError("socat is not installed (apt-get install socat); .ci/run installs it")
        }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.start()
    }

    /// A pty pair whose ends appear as the links `device` (what a console opens) and
    /// `guest` (the machine's side): a serial line that can be unplugged and plugged in.
    static func ptyPair(device: String, guest: String) -> [String] {
        ["-d", "-d", "pty,raw,echo=0,link=\(device)", "pty,raw,echo=0,link=\(guest)"]
    }

    static var executable: String? {
        ["/usr/bin/socat", "/usr/local/bin/socat"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func stop() {
        // SIGKILL: the test runner's blocked signal mask is inherited, so SIGTERM may wait.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.reap()
    }

    deinit { stop() }
}
