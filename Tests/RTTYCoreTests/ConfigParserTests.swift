import Testing
@testable import RTTYCore

@Suite struct ConfigParserTests {
    let full = """
        [paths]
        socket_dir = "/tmp/rtty/run"
        log_dir = "/tmp/rtty/log"

        [defaults]
        baud = 9600
        timestamps = true
        replay_bytes = 1024

        [console.pbx]
        device = "/dev/nmdm5A"
        baud = 115200
        group = "wheel"

        [console.lab1]
        exec = ["/usr/bin/ipmitool", "-I", "lanplus", "sol", "activate"]
        rows = 50

        [console.vm7]
        unix = "/var/run/qemu/vm7.serial"
        baud = 250000
        parity = "even"
        write_policy = "exclusive"
        """

    @Test func readsTheSpecExampleInFileOrder() throws {
        let config = try ConfigParser.parse(full, file: "rtty.conf")
        #expect(config.paths.socketDir == "/tmp/rtty/run")
        #expect(config.paths.pidFile == Config.Paths().pidFile)
        #expect(config.consoles.map(\.name) == ["pbx", "lab1", "vm7"])
        let pbx = try #require(config.console(named: "pbx"))
        #expect(pbx.source == .device(path: "/dev/nmdm5A"))
        #expect(pbx.settings.baud == 115_200)
        #expect(pbx.group == "wheel")
        #expect(pbx.timestamps)
        #expect(pbx.replayBytes == 1024)
        let lab1 = try #require(config.console(named: "lab1"))
        #expect(lab1.source == .exec(argv: ["/usr/bin/ipmitool", "-I", "lanplus", "sol", "activate"], rows: 50, cols: 80))
        #expect(lab1.settings.baud == 9600)
        #expect(lab1.group == "rtty")
        let vm7 = try #require(config.console(named: "vm7"))
        #expect(vm7.settings.baud == 250_000)
        #expect(vm7.settings.parity == .even)
        #expect(vm7.writePolicy == .exclusive)
    }

    @Test func clientLimitsAreInheritedAndCheckedAndConsolesKnowTheAdminGroup() throws {
        let config = try ConfigParser.parse(
            """
            [control]
            admin_group = "ops"
            [defaults]
            max_clients_per_user = 3
            [console.a]
            device = "/dev/ttyS0"
            [console.b]
            device = "/dev/ttyS1"
            max_clients = 5
            max_clients_per_user = 1
            """, file: "rtty.conf")
        #expect(config.consoles.map(\.maxClientsPerUser) == [3, 1])
        #expect(config.consoles.map(\.maxClients) == [64, 5])
        #expect(config.consoles.allSatisfy { $0.adminGroup == "ops" })
        #expect(try ConfigParser.parse("[console.a]\ndevice = \"/dev/ttyS0\"\n", file: "f").consoles[0].maxClientsPerUser == 8)
        for bad in ["0", "10001", "\"4\""] {
            #expect(throws: ConfigError.self) { try ConfigParser.parse("[defaults]\nmax_clients_per_user = \(bad)\n", file: "f") }
        }
        do {
            _ = try ConfigParser.parse("[console.a]\ndevice = \"/dev/ttyS0\"\nmax_clients_per_user = 0\n", file: "rtty.conf")
            Issue.record("max_clients_per_user = 0 accepted")
        } catch {
            #expect(error.description == "rtty.conf:3: console.a.max_clients_per_user: expected an integer from 1 to 10000, got 0")
        }
    }

    @Test func emptyFileIsAValidDaemonWithoutConsoles() throws {
        #expect(try ConfigParser.parse("", file: "rtty.conf") == Config())
    }

    @Test(arguments: [
        ("[console.pbx]\ndevice = \"/dev/x\"\nbaud = \"fast\"\n", "console.pbx.baud", 3, "integer"),
        ("[console.pbx]\ndevice = \"/dev/x\"\nbaud = 10\n", "console.pbx.baud", 3, "50"),
        ("[console.pbx]\ndevice = \"/dev/x\"\nparity = \"purple\"\n", "console.pbx.parity", 3, "none, even or odd"),
        ("[console.pbx]\ndevice = \"/dev/x\"\ndata_bits = 9\n", "console.pbx.data_bits", 3, "5, 6, 7 or 8"),
        ("[console.pbx]\ndevice = \"/dev/x\"\nspeed = 9600\n", "console.pbx.speed", 3, "unknown key"),
        ("[console.pbx]\nbaud = 9600\n", "console.pbx", 1, "one of device, exec or unix"),
        ("[console.pbx]\ndevice = \"/dev/x\"\nunix = \"/s\"\n", "console.pbx", 1, "exactly one"),
        ("[console.pbx]\ndevice = \"ttyS0\"\n", "console.pbx.device", 2, "absolute path"),
        ("[console.pbx]\nexec = [\"ipmitool\"]\n", "console.pbx.exec", 2, "absolute path"),
        ("[console.pbx]\nexec = \"/bin/sh\"\n", "console.pbx.exec", 2, "array of strings"),
        ("[console.pbx]\ndevice = \"/dev/x\"\nrows = 30\n", "console.pbx.rows", 3, "exec consoles only"),
        ("[console.a]\ndevice = \"/dev/x\"\n[console.b]\ndevice = \"/dev/x\"\n", "console.b", 3, "like console a"),
        ("[paths]\nsocket_dir = \"run\"\n", "paths.socket_dir", 2, "absolute path"),
        ("[paths]\nsockets = \"/run\"\n", "paths.sockets", 2, "unknown key"),
        ("[defaults]\nreplay_bytes = -1\n", "defaults.replay_bytes", 2, "0 to"),
        ("[defaults]\ntimestamps = \"yes\"\n", "defaults.timestamps", 2, "true or false"),
        ("[defaults]\nwrite_policy = \"mine\"\n", "defaults.write_policy", 2, "exclusive"),
        ("console = 3\n", "console", nil, "tables"),
        ("[server]\nport = 1\n", "server", nil, "unknown table"),
    ] as [(String, String, Int?, String)])
    func errorsNameFileLineKeyAndWhatWasExpected(text: String, key: String, line: Int?, expected: String) {
        do {
            _ = try ConfigParser.parse(text, file: "/etc/rtty/rtty.conf")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.file == "/etc/rtty/rtty.conf")
            #expect(error.key == key)
            if let line { #expect(error.line == line, "\(error)") }
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.hasPrefix("/etc/rtty/rtty.conf"))
        }
    }

    /// TOML spells a table many ways: spaces in the header, quoted names (needed for a dot
    /// or a non-ASCII letter), literal quotes, a [console] table with dotted keys or an
    /// inline table. Consoles come out in the order of the file whichever is used.
    @Test func consolesKeepFileOrderHoweverTheirHeadersAreSpelled() throws {
        let text = """
            [console."zeta"]
            device = "/dev/z"
            [ console.alpha ]   # spaces inside the brackets
            device = "/dev/a"
            [console . "m.id"]
            device = "/dev/m"
            [console.'kappa']
            device = "/dev/k"
            [console]
            delta.device = "/dev/d"
            beta = { device = "/dev/b" }
            [console."vm@host1"]
            device = "/dev/c"
            [console.omega]
            device = "/dev/o"
            """
        let config = try ConfigParser.parse(text, file: "t.conf")
        #expect(config.consoles.map(\.name) == ["zeta", "alpha", "m.id", "kappa", "delta", "beta", "vm@host1", "omega"])
    }

    /// An error inside such a table names its line, and the key as TOML would write it.
    /// The name rule still refuses what it refuses, now with the line of the header.
    @Test(arguments: [
        ("[console.\"lab.1\"]\ndevice = \"/dev/x\"\nbaud = 10\n", #"console."lab.1".baud"#, 3, "50"),
        ("[ console.pbx ]\ndevice = \"/dev/x\"\nspeed = 9600\n", "console.pbx.speed", 3, "unknown key"),
        ("[console.a]\ndevice = \"/dev/a\"\n\n[ console . \"with space\" ]\ndevice = \"/dev/x\"\n", #"console."with space""#, 4, "spaces"),
        ("[console.a]\ndevice = \"/dev/a\"\n[console.\"x..y\"]\ndevice = \"/dev/x\"\n", #"console."x..y""#, 3, "'..'"),
        ("[console.a]\ndevice = \"/dev/x\"\n[console.'b']\ndevice = \"/dev/x\"\n", "console.b", 3, "like console a"),
        ("[console.pbx]\ndevice = \"/dev/x\"\n\"baud\" = 10\n", "console.pbx.baud", 3, "50"),
        ("[console]\npbx.device = \"/dev/x\"\npbx.baud = 10\n", "console.pbx.baud", 3, "50"),
        ("[console]\n\npbx = { device = \"ttyS0\" }\n", "console.pbx.device", 3, "absolute path"),
        ("[console.pbx]\r\ndevice = \"/dev/x\"\r\nbaud = 10\r\n", "console.pbx.baud", 3, "50"),
        // A header-like line inside a multi-line string is text, not a header.
        ("[console.a]\nexec = [\"/bin/sh\", \"-c\", \"\"\"\n[console.b]\n\"\"\"]\n[console.b]\ndevice = \"ttyS0\"\n", "console.b.device", 6, "absolute path"),
        // A control character in a quoted name is shown escaped, never raw.
        ("[console.\"a\\u001Bb\"]\ndevice = \"/dev/x\"\n", #"console."a\x1bb""#, 1, "control characters"),
    ] as [(String, String, Int, String)])
    func errorsInQuotedOrSpacedTablesNameTheirLine(text: String, key: String, line: Int, expected: String) {
        do {
            _ = try ConfigParser.parse(text, file: "rtty.conf")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.unicodeScalars.contains { $0.value < 0x20 }, "\(error.description.debugDescription)")
        }
    }

    @Test func syntaxErrorsCarryTheLine() {
        do {
            _ = try ConfigParser.parse("[defaults]\nbaud = 9600\nparity = \n", file: "rtty.conf")
            Issue.record("accepted broken TOML")
        } catch {
            #expect(error.line == 3, "\(error)")
            #expect(error.description.contains("TOML syntax"))
        }
    }

    @Test(arguments: ["a/b", "..", "x..y", "", "bad\u{1}name", "with space", "control", ".hidden", "-opt"])
    func badConsoleNamesAreRefused(name: String) {
        #expect(ConsoleName.problem(name) != nil)
        do {
            _ = try ConfigParser.parse("[console.\"\(name)\"]\ndevice = \"/dev/x\"\n", file: "f")
            Issue.record("console \(name.debugDescription) accepted")
        } catch {
            // Refused by the name check, or already by TOML for raw control characters.
            #expect(error.key?.hasPrefix("console.") == true || error.message.hasPrefix("TOML syntax"), "\(error)")
        }
    }

    @Test(arguments: ["pbx", "lab-1", "vm_7", "ttyUSB0", "nmdm5A"])
    func goodConsoleNamesPass(name: String) {
        #expect(ConsoleName.problem(name) == nil)
    }
}

@Suite struct LineSettingsTests {
    @Test func setAndSummaries() throws {
        let s = try LineSettings().applying("baud=115200 data=7 parity=even stop=2 flow=rtscts")
        #expect(s.summary == "baud=115200 data=7 parity=even stop=2 flow=rtscts")
        #expect(s.short == "115200 7E2 rtscts")
        #expect(try LineSettings().applying("baud=250000").baud == 250_000)
    }

    @Test func badValuesChangeNothing() {
        let base = LineSettings()
        for bad in ["baud=0", "baud=abc", "data=4", "parity=mark", "stop=3", "flow=dtr", "speedy=1", "baud"] {
            #expect(throws: LineSettings.Invalid.self) { try base.applying("parity=odd " + bad) }
        }
    }
}

@Suite struct TOMLPrecheckTests {
    @Test func nonASCIIOutsideStringsIsAnErrorWithItsLineNotACrash() {
        let text = "[paths]\nsocket_dir = \"/run/rtty\"\n[\u{FFFD}\u{FFFD}defaults]\n"
        #expect(throws: ConfigError(file: "t.conf", line: 3, key: nil, message: "character U+FFFD outside a quoted string: bare TOML keys are letters, digits, _ and - (quote a name, e.g. [console.\"lab-1\"])")) {
            try ConfigParser.parse(text, file: "t.conf")
        }
        #expect(throws: ConfigError.self) { try ConfigParser.parse("[console.pbx]\u{0}\ndevice = \"/dev/x\"\n", file: "t.conf") }
        #expect(throws: ConfigError.self) { try ConfigParser.parse("[`aths]\n", file: "t.conf") }
    }

    @Test func nonASCIIInStringsAndCommentsIsFine() throws {
        let text = """
            # café console — comments may say anything
            [console."lab1.bmc"]
            device = "/dev/ttyS0café"   # Ünïcode here too
            [console.lab]
            exec = ['/bin/echo', \"\"\"multi
            line ✓\"\"\"]
            """
        let config = try ConfigParser.parse(text, file: "t.conf")
        #expect(config.consoles.map(\.name) == ["lab1.bmc", "lab"])
    }
}

@Suite struct TOMLPrecheckShapesTests {
    @Test(arguments: [
        "[ = x]\n", "[#c]\n", "[a.]\n", "[a.#]\n", "a.=1\n", "x = { = 1 }\n", "x = { a = 1, # c\n}\n", "= 5\n", "[`a]\n", "[a\n",
    ])
    func keysThatCannotStartThereAreErrors(text: String) {
        #expect(throws: ConfigError.self) { try ConfigParser.parse(text, file: "t.conf") }
    }

    @Test func validShapesPass() throws {
        let text = """
            [paths]
            socket_dir = "/run/rtty"   # a comment
            [defaults]
            baud = 115200
            [console."lab.1"]
            exec = [
              "/bin/sh",   # first
              "-c", 'echo "hi"',
            ]
            rows = 40
            [console.pbx]
            device = "/dev/ttyS0"
            tcp = "127.0.0.1:7001"
            tcp_allow = ["10.0.0.0/8",
                         "::1"]
            """
        let config = try ConfigParser.parse(text, file: "t.conf")
        #expect(config.consoles.map(\.name) == ["lab.1", "pbx"])
    }
}
