import Testing
@testable import RTTYCore

@Suite struct TelnetTests {
    typealias T = Telnet

    func feedAll(_ chunks: [[UInt8]]) throws -> [Telnet.Event] {
        var parser = Telnet.Parser()
        return try chunks.flatMap { try parser.feed($0) }
    }

    @Test func dataCommandsAndNegotiationSplitAnywhere() throws {
        let stream: [UInt8] = [65, T.IAC, T.IAC, 66, T.IAC, T.BRK, T.IAC, T.WILL, 44, T.IAC, T.SB, 44, 1, 0, 0, 0x25, 0x80, T.IAC, T.SE, 67]
        let whole = try feedAll([stream])
        let expected: [Telnet.Event] = [
            .data([65, 255, 66]), .command(T.BRK), .negotiate(verb: T.WILL, option: 44),
            .subnegotiation(option: 44, payload: [1, 0, 0, 0x25, 0x80]), .data([67]),
        ]
        #expect(whole == expected)
        for cut in 1..<stream.count {
            let split = try feedAll([Array(stream[..<cut]), Array(stream[cut...])])
            // Data may come in two pieces across the cut; join adjacent data to compare.
            var joined: [Telnet.Event] = []
            for event in split {
                if case .data(let more) = event, case .data(let before)? = joined.last {
                    joined[joined.count - 1] = .data(before + more)
                } else {
                    joined.append(event)
                }
            }
            #expect(joined == expected, "cut at \(cut)")
        }
    }

    @Test func iacInsideASubnegotiationIsDoubled() throws {
        let events = try feedAll([[T.IAC, T.SB, 44, 0, T.IAC, T.IAC, 7, T.IAC, T.SE]])
        #expect(events == [.subnegotiation(option: 44, payload: [0, 255, 7])])
        #expect(T.subnegotiation(option: 44, [0, 255]) == [T.IAC, T.SB, 44, 0, 255, 255, T.IAC, T.SE])
        #expect(T.escape([1, 255, 2]) == [1, 255, 255, 2])
    }

    @Test func brokenSequencesAreErrors() {
        #expect(throws: Telnet.Failure.self) { try feedAll([[T.IAC, T.SE]]) }
        #expect(throws: Telnet.Failure.self) { try feedAll([[T.IAC, T.SB, 44, 1, T.IAC, 7]]) }
        #expect(throws: Telnet.Failure.self) { try feedAll([[T.IAC, T.SB, 44] + [UInt8](repeating: 1, count: Telnet.maxSubnegotiation + 1)]) }
    }

    @Test func truncatedSubnegotiationWaitsForTheRest() throws {
        var parser = Telnet.Parser()
        #expect(try parser.feed([T.IAC, T.SB, 44, 5]) == [])
        #expect(try parser.feed([8, T.IAC]) == [])
        #expect(try parser.feed([T.SE, 9]) == [.subnegotiation(option: 44, payload: [5, 8]), .data([9])])
    }

    @Test func crNulIsCrUnlessBinary() throws {
        var parser = Telnet.Parser()
        #expect(try parser.feed([13, 0, 10]) == [.data([13, 10])])
        parser.binaryInput = true
        #expect(try parser.feed([13, 0]) == [.data([13, 0])])
    }

    @Test func negotiationAcceptsWhatItOffersRefusesTheRestAndNeverLoops() {
        var n = Telnet.Negotiator()
        let opening = n.opening()
        #expect(opening.count == 15)
        #expect(n.handle(verb: T.DO, option: Telnet.Option.echo) == [])  // their answer to our WILL
        #expect(n.handle(verb: T.WILL, option: Telnet.Option.comPort) == [T.IAC, T.DO, 44])
        #expect(n.handle(verb: T.WILL, option: Telnet.Option.comPort) == [])
        #expect(n.handle(verb: T.DO, option: Telnet.Option.comPort) == [T.IAC, T.WILL, 44])
        #expect(n.handle(verb: T.DO, option: 24) == [T.IAC, T.WONT, 24])  // terminal type: no
        #expect(n.handle(verb: T.DO, option: 24) == [])
        #expect(n.handle(verb: T.WILL, option: 31) == [T.IAC, T.DONT, 31])  // NAWS: no
        #expect(n.handle(verb: T.WILL, option: Telnet.Option.echo) == [T.IAC, T.DONT, Telnet.Option.echo])  // clients do not echo for us
        #expect(n.handle(verb: T.DONT, option: Telnet.Option.echo) == [T.IAC, T.WONT, Telnet.Option.echo])
        #expect(n.handle(verb: T.DONT, option: Telnet.Option.echo) == [])
        #expect(n.isOn(theirs: Telnet.Option.binary))
    }

    @Test func comPortRequestsParse() throws {
        #expect(try ComPort.parse([1, 0, 1, 0xC2, 0x00]).get() == .setBaud(115_200))
        #expect(try ComPort.parse([3, 3]).get() == .setParity(3))
        #expect(try ComPort.parse([5, 5]).get() == .setControl(ComPort.Control.breakOn))
        #expect(try ComPort.parse([12, 3]).get() == .purge(3))
        #expect(try ComPort.parse([7]).get() == .notifyModemState)
        for bad: [UInt8] in [[], [1, 0, 0], [2], [3, 1, 2], [99, 1]] {
            if case .success(let request) = ComPort.parse(bad) { Issue.record("\(bad) parsed as \(request)") }
        }
        #expect(ComPort.reply(ComPort.Code.setBaud, ComPort.baudBytes(57_600)) == [255, 250, 44, 101, 0, 0, 0xE1, 0x00, 255, 240])
    }

    @Test func networks() {
        let ten = IPNetwork("10.0.0.0/8")!
        #expect(ten.contains([10, 1, 2, 3]))
        #expect(!ten.contains([11, 0, 0, 1]))
        #expect(ten.contains(IPNetwork.address("::ffff:10.9.8.7")!))
        #expect(IPNetwork("::1")!.isLoopback && IPNetwork("127.0.0.2")!.isLoopback && !IPNetwork("0.0.0.0")!.isLoopback)
        #expect(IPNetwork("fe80::/10")!.contains(IPNetwork.address("fe80::1:2")!))
        #expect(IPNetwork.address("2001:db8::8a2e:370:7334") == [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34])
        for bad in ["10.0.0.0/33", "1.2.3", "1.2.3.256", "1::2::3", ":::", "fe80::/129", "abc", "12345::"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }

    @Test func tcpConfigChecksAddressAndSafety() throws {
        func parse(_ body: String) throws(ConfigError) -> Config {
            try ConfigParser.parse("[console.pbx]\ndevice = \"/dev/ttyS0\"\n" + body, file: "t.conf")
        }
        let ok = try parse("tcp = \"127.0.0.1:7001\"\ntcp_mode = \"telnet\"\ntcp_rights = \"ro\"")
        #expect(ok.consoles[0].tcp == Config.TCPAccess(host: "127.0.0.1", port: 7001, mode: .telnet, allowRemote: false, allow: [], readOnly: true))
        #expect(try parse("tcp = \"[::1]:7001\"").consoles[0].tcp?.host == "::1")
        let remote = try parse("tcp = \"0.0.0.0:7001\"\ntcp_allow_remote = true\ntcp_allow = [\"192.0.2.0/24\"]")
        #expect(remote.consoles[0].tcp?.allow == [IPNetwork("192.0.2.0/24")!])
        for (body, key, words) in [
            ("tcp = \"0.0.0.0:7001\"", "console.pbx.tcp", "tcp_allow_remote = true"),
            ("tcp = \"consoles.example:7001\"", "console.pbx.tcp", "not a loopback"),
            ("tcp = \"127.0.0.1\"", "console.pbx.tcp", "HOST:PORT"),
            ("tcp = \"127.0.0.1:70000\"", "console.pbx.tcp", "port 1 to 65535"),
            ("tcp = \"127.0.0.1:7001\"\ntcp_mode = \"ssh\"", "console.pbx.tcp_mode", "raw"),
            ("tcp = \"127.0.0.1:7001\"\ntcp_allow = [\"10.0.0.0/99\"]", "console.pbx.tcp_allow", "not an address"),
            ("tcp_mode = \"raw\"", "console.pbx.tcp_mode", "applies only with tcp"),
        ] {
            do throws(ConfigError) {
                _ = try parse(body)
                Issue.record("accepted: \(body)")
            } catch {
                #expect(error.key == key, "\(body): \(error)")
                #expect(error.message.contains(words), "\(body): \(error)")
            }
        }
    }
}
