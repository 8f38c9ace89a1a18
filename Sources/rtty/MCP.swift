import ArgumentParser
import FoundationEssentials
import RTTYClient
import RTTYCore
import RTTYSession
import RTTYSystem
import SystemPackage

/// `rtty mcp`: a Model Context Protocol server on stdin/stdout for an AI agent, run by the
/// user, with that user's rights and nothing more: every console it touches is an ordinary
/// session of that user on the console socket, audited as any attach, with an AGENT claim
/// in its metadata. Read-only (HELLO `ro`, enforced by rttyd) unless started with
/// --allow-write; a read-only grant stays read-only either way.
///
/// Written by hand (JSON-RPC 2.0, newline-delimited, the stdio transport): the MCP Swift SDK
/// needs full Foundation and FoundationNetworking, whose static program alone (61 MB) would
/// put the package past its 100 MB installed budget.
struct MCP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the consoles you may use to an AI agent (Model Context Protocol, stdio).",
        discussion: "Tools: list_consoles, read_output, send_text, send_break, wait_for. Read-only unless --allow-write.")

    @Option(name: .long, help: "Directory of the console sockets (environment: RTTY_SOCKET_DIR).")
    var socketDir: String = ProcessEnvironment.value("RTTY_SOCKET_DIR") ?? "/run/rtty"

    @Flag(name: .long, help: "Let the agent type and send BREAK (where your grant is read-write).")
    var allowWrite = false

    func run() throws {
        var server = MCPServer(tools: MCPTools(socketDir: socketDir, allowWrite: allowWrite))
        server.serve()
    }
}

extension RTTY {
    /// `rtty mcp ...` is the agent server; anything else is rtty's own command line. Not an
    /// ArgumentParser subcommand: rtty's first argument is a console name, which would take
    /// the word. (A console named mcp is reached by its socket's path.)
    static func main() async {
        Signals.unblockTermination()
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "mcp" { return MCP.main(Array(arguments.dropFirst())) }
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The stdio transport: requests are lines on stdin, answers lines on stdout, one at a time;
/// while idle (and while a `wait_for` waits) the consoles' sessions are read, so their
/// output is kept and rttyd never has to cut them off.
struct MCPServer {
    static let maxLine = 1 << 20
    static let protocolVersions = ["2025-06-18", "2025-03-26", "2024-11-05"]

    let tools: MCPTools
    private var pending: [UInt8] = []

    init(tools: MCPTools) {
        self.tools = tools
    }

    mutating func serve() {
        Signals.ignoreBrokenPipe()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let polled = tools.openSessions
            let ready = Poll.readable([FileDescriptor.standardInput] + polled.map(\.descriptor), timeoutMilliseconds: 1000)
            tools.receive(polled, ready: Array(ready.dropFirst()))
            guard ready.first == true else { continue }
            let n = (try? chunk.withUnsafeMutableBytes { try FileDescriptor.standardInput.read(into: $0) }) ?? 0
            guard n > 0 else { return }
            pending += chunk.prefix(n)
            while let newline = pending.firstIndex(of: 10) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                if let answer = handle(line) { write(answer) }
            }
            if pending.count > Self.maxLine {
                pending = []
                write(JSONRPCResponse(id: .null, error: JSONRPCError(code: JSONRPCError.invalidRequest, message: "a request longer than \(Self.maxLine) bytes; dropped")))
            }
        }
    }

    func handle(_ line: [UInt8]) -> JSONRPCResponse? {
        guard line.contains(where: { $0 != 32 && $0 != 13 && $0 != 9 }) else { return nil }
        let request: JSONRPCRequest
        do {
            request = try JSONDecoder().decode(JSONRPCRequest.self, from: Data(line))
        } catch {
            let parsed = (try? JSONDecoder().decode(JSONValue.self, from: Data(line))) != nil
            return JSONRPCResponse(
                id: .null,
                error: JSONRPCError(code: parsed ? JSONRPCError.invalidRequest : JSONRPCError.parseError, message: parsed ? "not a JSON-RPC 2.0 request" : "not JSON"))
        }
        guard let id = request.id else { return nil }  // a notification: no answer
        guard request.jsonrpc == "2.0" else {
            return JSONRPCResponse(id: id, error: JSONRPCError(code: JSONRPCError.invalidRequest, message: "jsonrpc must be \"2.0\""))
        }
        switch request.method {
        case "initialize":
            let asked = request.params?["protocolVersion"]?.string ?? ""
            if let name = request.params?["clientInfo"]?["name"]?.string {
                tools.agent = "mcp client=" + String(name.prefix(64)) + (request.params?["clientInfo"]?["version"]?.string.map { " " + $0.prefix(32) } ?? "")
            }
            return JSONRPCResponse(
                id: id,
                result: .object([
                    "protocolVersion": .string(Self.protocolVersions.contains(asked) ? asked : Self.protocolVersions[0]),
                    "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
                    "serverInfo": .object(["name": .string("rtty"), "version": .string(RTTYVersion.string)]),
                    "instructions": .string(MCPTools.instructions(allowWrite: tools.allowWrite)),
                ]))
        case "ping":
            return JSONRPCResponse(id: id, result: .object([:]))
        case "tools/list":
            return JSONRPCResponse(id: id, result: .object(["tools": .array(MCPTools.descriptions)]))
        case "tools/call":
            guard let name = request.params?["name"]?.string else {
                return JSONRPCResponse(id: id, error: JSONRPCError(code: JSONRPCError.invalidParams, message: "tools/call needs params.name"))
            }
            guard MCPTools.names.contains(name) else {
                return JSONRPCResponse(id: id, error: JSONRPCError(code: JSONRPCError.invalidParams, message: "no tool \(ClientText.sanitized(name.utf8, limit: 64)); tools/list names them"))
            }
            return JSONRPCResponse(id: id, result: tools.call(name, request.params?["arguments"] ?? .object([:])).json)
        default:
            return JSONRPCResponse(id: id, error: JSONRPCError(code: JSONRPCError.methodNotFound, message: "method \(ClientText.sanitized(request.method.utf8, limit: 64)) not supported"))
        }
    }

    private func write(_ response: JSONRPCResponse) {
        guard var line = try? JSONEncoder().encode(response) else { return }
        line.append(10)
        _ = try? line.withUnsafeBytes { try FileDescriptor.standardOutput.writeAll($0) }
    }
}
