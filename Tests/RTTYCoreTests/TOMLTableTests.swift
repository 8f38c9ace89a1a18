import Foundation
import Testing
@testable import RTTYCore

/// rtty.conf through toml++: the values as TOML means them, errors with their line, and
/// nothing left allocated by a parse (a reload parses the whole file).
@Suite struct TOMLTableTests {
    @Test func valuesKeysAndNesting() throws {
        let table = try TOMLTable(string: """
            top = "x"
            [b.c]
            n = 7
            f = 1.5
            yes = true
            list = ["a", 2, [false]]
            when = 1979-05-27T07:32:00Z
            [a]
            s = "caf\\u00e9 \\"q\\""
            """)
        #expect(table.keys == ["a", "b", "top"])
        #expect(table["top"]?.string == "x")
        #expect(table["a"]?.table?["s"]?.string == "café \"q\"")
        let c = try #require(table["b"]?.table?["c"]?.table)
        #expect(c["n"]?.int == 7 && c["f"] == .float(1.5) && c["yes"]?.bool == true && c["when"] == .dateTime)
        #expect(c["list"]?.array == [.string("a"), .integer(2), .array([.boolean(false)])])
        #expect(c["missing"] == nil && table["top"]?.int == nil)
    }

    @Test func syntaxErrorsNameTheirLine() {
        do {
            _ = try TOMLTable(string: "a = 1\nb = \n")
            Issue.record("parsed a broken document")
        } catch {
            #expect(error.line == 2, "\(error)")
            #expect(!error.message.isEmpty)
        }
    }

    /// 5,000 parses of a 40-console file: the process grows by less than 32 MiB, a bound
    /// loose enough for the other suites running beside this one (TOMLKit kept about 3 KB
    /// plus 0.6 KB per console of every parse: some 130 MB here).
    @Test func parsingLeavesNothingAllocated() throws {
        var text = "[defaults]\nbaud = 9600\n"
        for n in 0..<40 { text += "[console.c\(n)]\ndevice = \"/dev/ttyS\(n)\"\nbaud = 115200\ntcp_allow = [\"10.0.0.0/8\"]\n" }
        for _ in 0..<200 { _ = try TOMLTable(string: text) }  // warm: allocator pools, caches
        let before = try Self.residentKiB()
        for _ in 0..<5000 { _ = try TOMLTable(string: text) }
        let grown = try Self.residentKiB() - before
        #expect(grown < 32 << 10, "RSS grew \(grown) KiB over 5,000 parses")
    }

    static func residentKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }
}
