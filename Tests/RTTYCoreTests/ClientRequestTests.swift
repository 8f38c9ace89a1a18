import Testing
@testable import RTTYCore

@Suite struct ClientRequestTests {
    @Test(arguments: [
        (Frame.withText(.data, "ls\r"), ClientRequest.input(Array("ls\r".utf8))),
        (Frame(.baud, value: 9600), .setBaud(9600)),
        (Frame(.baud, query: true), .queryBaud),
        (Frame.withText(.parity, "even"), .setParity("even")),
        (Frame(.parity, query: true), .queryParity),
        (Frame(.wordSize, value: 7), .setWordSize(7)),
        (Frame(.wordSize, query: true), .queryWordSize),
        (Frame(.breakSignal), .sendBreak),
        (Frame.withText(.whosOn, "vixie@pts/3"), .identify("vixie@pts/3")),
        (Frame(.whosOn, query: true), .queryWho),
        (Frame(.tail, query: true), .queryTail),
        (Frame(.version, query: true), .queryVersion),
        (Frame.withText(.settings, query: true, ""), .querySettings),
        (Frame.withText(.settings, "baud=250000"), .setSettings("baud=250000")),
        (Frame.withPayload(.windowSize, [0, 50, 0, 132]), .windowSize(rows: 50, cols: 132)),
        (Frame.withText(.writeLock, "take"), .takeWriteLock),
        (Frame.withText(.writeLock, "release"), .releaseWriteLock),
        (Frame.withText(.replay, ""), .replay),
    ])
    func decodesEveryRequest(frame: Frame, expected: ClientRequest) {
        #expect(ClientRequest.decode(frame) == expected)
    }

    @Test func identityIsSanitizedAndBounded() {
        let hostile = Array("evil\u{1B}[2J@tty x\n".utf8) + [UInt8](repeating: 0x41, count: 500)
        guard case .identify(let text) = ClientRequest.decode(.withPayload(.whosOn, hostile)) else {
            Issue.record("not an identify request")
            return
        }
        #expect(!text.contains("\u{1B}") && !text.contains(" ") && !text.contains("\n"))
        #expect(text.hasPrefix(#"evil\x1b[2J@tty\x20x\x0aAAA"#), "\(text)")
        #expect(text.count == ClientRequest.maxIdentityLength - 3 + 3 * 4, "at most maxIdentityLength bytes are read")
    }

    @Test func serverOnlyAndLoginFramesAreIgnoredNotFatal() {
        for frame in [Frame.withText(.notice, "hi"), .withText(.login, "root"), .withText(.result, "ok")] {
            guard case .ignored(let why) = ClientRequest.decode(frame) else {
                Issue.record("\(frame.kind) was not ignored")
                continue
            }
            #expect(!why.isEmpty)
        }
        guard case .ignored = ClientRequest.decode(.withPayload(.windowSize, [1, 2, 3])) else {
            Issue.record("short window size accepted")
            return
        }
    }

    @Test func helloFlags() {
        let hello = HelloRequest("rtty/1 ro noreplay future-flag")
        #expect(hello.isSupported)
        #expect(hello.readOnly && hello.noReplay && !hello.probe)
        #expect(!HelloRequest("rtty/9").isSupported)
    }

    @Test func metadataIsBounded() {
        let text = (0..<40).map { "K\($0)=" + String(repeating: "v", count: 700) }.joined(separator: "\n") + "\nnoequals"
        guard case .metadata(let metadata) = ClientRequest.decode(.withText(.metadata, text)) else {
            Issue.record("not metadata")
            return
        }
        #expect(metadata.values.count == SessionMetadata.maxKeys)
        #expect(metadata.values.values.allSatisfy { $0.count == SessionMetadata.maxValueBytes })
        #expect(metadata.problems.contains { $0.contains("more than 32 metadata keys") }, "\(metadata.problems)")
    }
}

@Suite struct ReloadPlanTests {
    @Test func sortsConsolesIntoAddedRemovedChangedUnchanged() {
        var old = Config()
        let defaults = Config.Defaults()
        old.consoles = [
            .init(name: "keep", source: .device(path: "/dev/ttyS0"), defaults: defaults),
            .init(name: "change", source: .device(path: "/dev/ttyS1"), defaults: defaults),
            .init(name: "drop", source: .unix(path: "/run/vm.sock"), defaults: defaults),
        ]
        var new = old
        new.consoles.removeLast()
        new.consoles[1].settings.baud = 115_200
        new.consoles.append(.init(name: "add", source: .exec(argv: ["/bin/sh"], rows: 24, cols: 80), defaults: defaults))
        let plan = ReloadPlan(old: old, new: new)
        #expect(plan.added.map(\.name) == ["add"])
        #expect(plan.removed == ["drop"])
        #expect(plan.changed.map(\.name) == ["change"])
        #expect(plan.unchanged == ["keep"])
        #expect(!plan.pathsChanged)
        new.paths.socketDir = "/tmp/elsewhere"
        #expect(ReloadPlan(old: old, new: new).pathsChanged)
    }
}
