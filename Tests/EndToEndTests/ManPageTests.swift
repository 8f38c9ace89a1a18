import Foundation
import Testing

/// The manual pages in man/ against the built programs: every option a program's help
/// prints is documented in its page (as `.Fl`), every rttyctl subcommand has its `.Cm`,
/// every page has its sections, and `mandoc -T lint` finds nothing to say.
@Suite struct ManPageTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the repository
    static let manDirectory = repositoryRoot.appendingPathComponent("man")
    static let pages = ["rttyd.8", "rtty.1", "rtty-shell.8", "rttyctl.8", "rtty.conf.5", "rtty.access.5", "rtty-fleet.5"]
    /// ArgumentParser adds these to every command; they need no page text.
    static let ignoredOptions: Set<String> = ["--help", "-h", "--version"]
    static let mandoc = "/usr/bin/mandoc"
    static var mandocRequired: Bool {
        FileManager.default.isExecutableFile(atPath: mandoc) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    @Test(arguments: [("rttyd", "rttyd.8"), ("rtty", "rtty.1")])
    func everyOptionOfTheProgramIsInItsPage(program: String, page: String) throws {
        let help = try Self.help(program, ["--help"], expecting: program)
        let options = Self.options(inHelp: help)
        #expect(!options.isEmpty, "found no options in \(program) --help:\n\(help)")
        let text = try Self.page(page)
        for option in options.sorted() {
            let documented = Self.documents(text, option)
            #expect(documented, "\(page) does not document \(option) as `.Fl \(option.dropFirst())`")
        }
    }

    @Test func everyRttyctlSubcommandAndOptionIsInItsPage() throws {
        let text = try Self.page("rttyctl.8")
        let top = try Self.help("rttyctl", ["help"], expecting: "rttyctl")
        let subcommands = Self.subcommands(inHelp: top)
        for known in ["status", "who", "grant", "revoke", "acl", "kick", "break", "set", "reload", "log", "sessions", "replay"] {
            #expect(subcommands.contains(known), "rttyctl help does not list \(known) (or its SUBCOMMANDS section was not understood)")
        }
        var checked: [(path: [String], options: Set<String>)] = [([], Self.options(inHelp: top))]
        for subcommand in subcommands {
            let listed = Self.hasCommandLine(text, subcommand)
            #expect(listed, "rttyctl.8 has no line starting `.Cm \(subcommand)`")
            let help = try Self.help("rttyctl", ["help", subcommand], expecting: "rttyctl \(subcommand)")
            checked.append(([subcommand], Self.options(inHelp: help)))
            for nested in Self.subcommands(inHelp: help) {
                let named = Self.namesCommand(text, nested)
                #expect(named, "rttyctl.8 never names `rttyctl \(subcommand) \(nested)` with `.Cm`")
                let nestedHelp = try Self.help("rttyctl", ["help", subcommand, nested], expecting: "rttyctl \(subcommand) \(nested)")
                checked.append(([subcommand, nested], Self.options(inHelp: nestedHelp)))
            }
        }
        #expect(checked.contains { $0.options.contains("--control") }, "no rttyctl subcommand showed --control: is the help parsed?")
        for (path, options) in checked {
            for option in options.sorted() {
                let documented = Self.documents(text, option)
                #expect(
                    documented,
                    "rttyctl.8 does not document \(option) of `rttyctl \(path.joined(separator: " "))` as `.Fl \(option.dropFirst())`")
            }
        }
    }

    @Test func everyPageHasItsSections() throws {
        for page in Self.pages {
            let text = try Self.page(page)
            let isProgram = page.hasSuffix(".1") || page.hasSuffix(".8")
            var required = ["NAME", "DESCRIPTION", "FILES", "EXAMPLES", "SEE ALSO"]
            if isProgram { required += ["SYNOPSIS", "EXIT STATUS"] }
            let sections = Set(text.split(separator: "\n").filter { $0.hasPrefix(".Sh ") }.map { String($0.dropFirst(4)) })
            for section in required {
                #expect(sections.contains(section), "\(page) has no \(section) section")
            }
            let dated = text.contains(".Dd November 26, 2026\n"), os = text.contains("\n.Os\n")
            #expect(dated, "\(page) does not have `.Dd November 26, 2026`")
            #expect(os, "\(page) does not have `.Os`")
        }
    }

    @Test(.enabled(if: mandocRequired, "mandoc is not installed (CI=true makes this a failure)"))
    func mandocLintFindsNothing() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.mandoc) else {
            Issue.record("\(Self.mandoc) is missing; CI must have it (apt-get install mandoc)")
            return
        }
        let paths = Self.pages.map { Self.manDirectory.appendingPathComponent($0).path }
        for path in paths {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) is missing")
        }
        let lint = try ProcessRun.run(Self.mandoc, ["-T", "lint", "-W", "warning"] + paths, input: "")
        let said = lint.stdout + lint.stderr
        #expect(said.isEmpty, "mandoc -T lint -W warning:\n\(said)")
        #expect(lint.status == 0, "mandoc -T lint -W warning: status \(lint.status)")
    }

    // MARK: reading the help

    /// A program's help text; `expecting` must be on its USAGE line (`rttyctl help NAME`
    /// prints the top-level help for a name it does not know, with status 0).
    static func help(_ program: String, _ arguments: [String], expecting usage: String) throws -> String {
        let run = try ProcessRun.run(BuiltProducts.path(program), arguments, input: "")
        #expect(run.status == 0, "\(program) \(arguments.joined(separator: " ")): status \(run.status), \(run.stderr)")
        let usageLine = run.stdout.split(separator: "\n").first { $0.hasPrefix("USAGE:") } ?? ""
        #expect(usageLine.hasPrefix("USAGE: \(usage)"), "\(program) \(arguments.joined(separator: " ")) printed:\n\(run.stdout)")
        return run.stdout
    }

    /// Every `--long` and `-x` option on the USAGE line and in the OPTIONS section, less
    /// the ones ArgumentParser adds.
    static func options(inHelp text: String) -> Set<String> {
        var found: Set<String> = []
        var section = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let first = line.first, first != " " {
                section = String(line.prefix { $0 != ":" })
            }
            switch section {
            case "USAGE":
                found.formUnion(optionWords(line))
            case "OPTIONS":
                // "  -r, --read-only         Read-only: ..." or "  --socket-dir <socket-dir>":
                // the option column ends where two spaces start the description.
                let trimmed = line.drop { $0 == " " }
                guard trimmed.hasPrefix("-") else { continue }
                let column = trimmed.range(of: "  ").map { String(trimmed[..<$0.lowerBound]) } ?? String(trimmed)
                found.formUnion(optionWords(column))
            default:
                continue
            }
        }
        return found.subtracting(ignoredOptions)
    }

    static func optionWords(_ text: String) -> [String] {
        matches(#"(?<![A-Za-z0-9-])(--[A-Za-z0-9][A-Za-z0-9-]*|-[A-Za-z])(?![A-Za-z0-9-])"#, in: text)
    }

    /// The names in a SUBCOMMANDS section: "  status    Consoles, ..." or "  show (default)".
    static func subcommands(inHelp text: String) -> [String] {
        var names: [String] = []
        var section = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let first = line.first, first != " " {
                section = String(line.prefix { $0 != ":" })
                continue
            }
            guard section == "SUBCOMMANDS" else { continue }
            names += matches(#"^  ([a-z][a-z0-9-]*)(?= \(default\)|\s{2,}|$)"#, in: line, group: 1)
        }
        return names
    }

    // MARK: reading the pages

    static func page(_ name: String) throws -> String {
        let url = manDirectory.appendingPathComponent(name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw HarnessError("\(url.path) cannot be read")
        }
        return text
    }

    /// `--config` is written `Fl -config` in mdoc (rendered --config), `-n` is `Fl n`;
    /// either on its own line (`.Fl -config`) or inside another macro (`.Op Fl -json`).
    static func documents(_ page: String, _ option: String) -> Bool {
        let name = NSRegularExpression.escapedPattern(for: String(option.dropFirst()))
        return !matches(#"(?m)(^|[\s.])Fl\s+"# + name + #"(?![A-Za-z0-9-])"#, in: page).isEmpty
    }

    /// A line that starts `.Cm NAME` (as in the SYNOPSIS).
    static func hasCommandLine(_ page: String, _ name: String) -> Bool {
        !matches(#"(?m)^\.Cm "# + NSRegularExpression.escapedPattern(for: name) + #"(\s|$)"#, in: page).isEmpty
    }

    /// NAME among the words of a `Cm` macro, e.g. `.Cm acl check` or `.Op Cm show`.
    static func namesCommand(_ page: String, _ name: String) -> Bool {
        !matches(#"(?m)(^|[\s.])Cm\s+([A-Za-z0-9-]+\s+)*"# + NSRegularExpression.escapedPattern(for: name) + #"(\s|$)"#, in: page).isEmpty
    }

    static func matches(_ pattern: String, in text: String, group: Int = 0) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else {
            Issue.record("bad pattern \(pattern)")
            return []
        }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: group), in: text).map { String(text[$0]) }
        }
    }
}
