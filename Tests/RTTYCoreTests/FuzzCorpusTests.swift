import Foundation
import RTTYFuzz
import Testing

/// Every checked-in fuzz input (the seed corpus and each crash ever found, in
/// fuzz/regressions/TARGET/) goes through its target on every test run.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz")

    @Test(arguments: ["frames", "config", "acl", "shell", "escapes", "telnet"])
    func corpusAndRegressionsRunClean(target: String) throws {
        let run = try #require(FuzzTargets.all[target])
        var count = 0
        for directory in ["corpus", "regressions"] {
            let path = Self.root.appendingPathComponent("\(directory)/\(target)").path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                run(Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))))
                count += 1
            }
        }
        #expect(count > 0, "no seed inputs for \(target) in fuzz/corpus/\(target)")
    }
}
