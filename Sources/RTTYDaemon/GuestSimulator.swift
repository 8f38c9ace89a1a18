import RTTYSystem

/// The demo's "machine": prints a boot log and answers on a login prompt, like a serial
/// console of a small Unix box. It reads its terminal (the pty rttyd made) line by line.
public enum GuestSimulator {
    public static func run() -> Never {
        let boot = [
            "rtty guest simulator: booting",
            "Copyright (c) 1992-2026 The rtty Project.",
            "CPU: Simulated CPU @ 2.00GHz (2 cores)",
            "real memory  = 268435456 (256 MB)",
            "uart0: <16550 or compatible> port 0x3f8 irq 4 on acpi0",
            "uart0: console (115200,n,8,1)",
            "Mounting root from ufs:/dev/vtbd0p2",
            "Starting sshd.",
            "",
            "demo.example.org (ttyu0)",
            "",
        ]
        for line in boot {
            Console.writeLine(line)
            Console.sleep(milliseconds: 150)
        }
        while true {
            Console.write("login: ")
            guard let user = Console.readLine() else { Console.exit(0) }
            if user.isEmpty { continue }
            Console.write("Password:")
            _ = Console.readLine()
            Console.writeLine("")
            Console.writeLine("Welcome to the rtty demo guest, \(user). Commands: uptime, date, echo TEXT, exit")
            shell(user)
        }
    }

    private static func shell(_ user: String) {
        var ticks = 0
        while true {
            Console.write("\(user)@demo:~ $ ")
            guard let line = Console.readLine() else { Console.exit(0) }
            ticks += 1
            let words = line.split(separator: " ", maxSplits: 1).map(String.init)
            switch words.first ?? "" {
            case "": continue
            case "exit", "logout": return
            case "uptime": Console.writeLine("up \(ticks) commands, 1 user, load averages: 0.00 0.00 0.00")
            case "date": Console.writeLine(WallClock.now().iso8601)
            case "echo": Console.writeLine(words.count > 1 ? words[1] : "")
            default: Console.writeLine("\(words[0]): command not found")
            }
        }
    }
}
