import Foundation

/// A small C program a test needs (a hostile program, a race driver), compiled with the
/// system's C compiler into the test's environment.
enum CHelper {
    /// cc, else the clang that comes with the Swift toolchain (on PATH in CI).
    static var compiler: String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let candidates = ["/usr/bin/cc"] + (path + ["/opt/swift/usr/bin"]).flatMap { ["\($0)/cc", "\($0)/clang"] }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Compiles `source` to `<env.root>/<name>` (mode 0755) and returns that path.
    static func build(_ name: String, source: String, in env: TestEnvironment) throws -> String {
        try build(name, source: source, inDirectory: env.root)
    }

    /// Compiles `source` to `<directory>/<name>` with `options` (e.g. `-shared -fPIC` for a
    /// module) and returns that path.
    static func build(_ name: String, source: String, inDirectory directory: String, options: [String] = []) throws -> String {
        guard let compiler else { throw HarnessError("no C compiler: neither cc nor the Swift toolchain's clang was found") }
        let sourcePath = directory + "/" + name + ".c"
        let binary = directory + "/" + name
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let run = try ProcessRun.run(compiler, ["-O", "-Wall"] + options + ["-o", binary, sourcePath], input: "", timeout: 60)
        guard run.status == 0 else { throw HarnessError("\(compiler) could not build \(name): \(run.stderr)") }
        return binary
    }
}
