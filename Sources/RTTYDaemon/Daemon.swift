import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem
import ServiceLifecycle
import UnixSignals

/// rttyd: starts every console, reloads on SIGHUP, stops cleanly on SIGTERM/SIGINT (the
/// ServiceGroup's graceful shutdown).
public final class Daemon: Service, @unchecked Sendable {
    /// What a reload replaces. Control and report requests read it from other threads, so
    /// it lives in one lock and is read as a snapshot; only `run()` (start, reload, stop)
    /// changes it, one reload at a time. AccessControl and AuditLog lock their own state.
    struct Running: Sendable {
        var config: Config
        var access: AccessControl
        var audit: AuditLog
        var hubs: [String: ConsoleHub] = [:]
    }

    let configPath: String
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    private let running: NIOLockedValueBox<Running>
    /// Touched by `run()` only.
    private var control: RequestServer?
    private var reports: RequestServer?
    /// `rttyctl reload` requests waiting for the next reload's outcome (Daemon+Reload.swift).
    let reloadWaiters = NIOLockedValueBox(ReloadWaiters())
    /// Audit copies to syslog or the journal, for every AuditLog this daemon makes.
    let syslog: AuditSyslog
    /// Prometheus series and their endpoint (Daemon+Metrics.swift).
    let metrics: DaemonMetrics

    var current: Running { running.withLockedValue { $0 } }
    var config: Config { current.config }
    var access: AccessControl { current.access }
    var audit: AuditLog { current.audit }
    private var hubs: [String: ConsoleHub] { current.hubs }
    func hubTableSnapshot() -> [String: ConsoleHub] { hubs }

    /// The one way the running state changes (from `run()` only).
    private func update(_ change: (inout Running) -> Void) { running.withLockedValue(change) }

    public init(configPath: String, config: Config, logger: Logger) {
        self.configPath = configPath
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: min(System.coreCount, 4))
        self.syslog = AuditSyslog(logger: logger)
        self.metrics = DaemonMetrics(logger: logger)
        self.running = NIOLockedValueBox(
            Running(
                config: config, access: AccessControl(path: config.paths.access, logger: logger),
                audit: AuditLog(path: config.paths.auditLog, logger: logger, syslog: syslog)))
    }

    public static func loadConfig(_ path: String) throws -> Config { try ConfigFile.loadForDaemon(path) }

    public func run() async throws {
        // Trap SIGHUP before any socket exists: whoever sees a socket may send it at once.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try prepareDirectories(config.paths)
        syslog.configure(config)
        audit.prepare()
        if !config.paths.pidFile.isEmpty {
            if let note = try PidFile.write(config.paths.pidFile) { logger.notice("\(note)") }
        }
        // Sessions a killed predecessor left open; closed once our sockets are bound (so no
        // other rttyd is serving them).
        let audited = AuditReader.sessionBounds(config.paths.auditLog, maxBytes: Daemon.maxAuditScan)
        if audited.skipped > 0 {
            logger.warning("\(audited.skipped) lines of \(config.paths.auditLog) are not audit records and were skipped looking for sessions left open")
        }
        let leftOpen = AuditRecovery.openSessions(in: audited.records)
        do {
            for console in config.consoles {
                try await startConsole(console, paths: config.paths)
            }
            closeAbnormallyEnded(leftOpen)
        } catch {
            await stopAll(reason: .notStarted)
            cleanUp()
            throw error
        }
        let controlServer = RequestServer(name: "control", logger: logger, refusal: { [self] uid in controlRefusal(uid: uid) }) { [self] line, uid in
            await controlRequest(line, uid: uid)
        }
        do {
            try await controlServer.start(path: config.paths.control, group: Accounts.groupID(named: config.adminGroup), on: group.next())
            control = controlServer
        } catch {
            logger.error("no control socket, rttyctl will not work: \(config.paths.control): \(error)")
        }
        // Anyone who can open the report socket (its group) may report; the uid is the kernel's.
        let reportServer = RequestServer(name: "report", logger: logger, refusal: { _ in nil }) { [self] line, uid in .line(shellReport(line, uid: uid)) }
        do {
            try await reportServer.start(path: config.paths.reportSocket, group: Accounts.groupID(named: config.defaults.group), on: group.next())
            reports = reportServer
        } catch {
            logger.error("no report socket, rtty-shell refusals will not be audited: \(config.paths.reportSocket): \(error)")
        }
        await serveMetrics(config)
        logger.notice("rttyd running: \(hubs.count) consoles, sockets in \(config.paths.socketDir)")
        for await _ in hangups.cancelOnGracefulShutdown() {
            // Those who asked before this reload reads the config are told its outcome.
            let waiting = reloadWaiters.withLockedValue { $0.take() }
            let outcome = await reload()
            for waiter in waiting { waiter.resume(returning: outcome) }
        }
        for waiter in reloadWaiters.withLockedValue({ $0.take(stopping: true) }) { waiter.resume(returning: .stopping) }
        logger.notice("rttyd stopping")
        await control?.stop(path: config.paths.control)
        await reports?.stop(path: config.paths.reportSocket)
        await metrics.stop()
        await stopAll(reason: .shuttingDown)
        cleanUp()
        audit.close()
        try? await group.shutdownGracefully()
    }

    private func prepareDirectories(_ paths: Config.Paths) throws {
        try Files.makeDirectory(paths.socketDir, mode: 0o755)
        // An existing directory keeps its mode: say so when console users cannot get in.
        if let closed = Files.closedToOthers(paths.socketDir, group: Accounts.groupID(named: config.defaults.group)) {
            logger.warning(
                "the socket directory \(paths.socketDir) is closed to console users at \(closed): rtty-shell and rtty will fail with \"Permission denied\"; make it 0755 (chmod 755)")
        }
        try Files.makeDirectory(paths.logDir, mode: 0o750)
        // The ACL's directory is open (0755): the setgid rtty-shell, not root, must get
        // through it; the ACL guards itself (0640 root:rtty).
        for (file, mode) in [(paths.auditLog, UInt16(0o750)), (paths.access, 0o755)] {
            if let slash = file.lastIndex(of: "/"), slash != file.startIndex {
                try? Files.makeDirectory(String(file[..<slash]), mode: mode)
            }
        }
    }

    private func closeAbnormallyEnded(_ sessions: [AuditRecovery.OpenSession]) {
        guard !sessions.isEmpty else { return }
        for open in sessions {
            var event = AuditEvent(
                time: WallClock.now(), kind: .sessionEnd, console: open.console, session: open.session, uid: open.uid, user: open.user,
                from: open.from)
            event.details = [("reason", .text("ended abnormally: rttyd stopped without closing it (killed or crashed)"))]
            if let started = open.started { event.details.append(("started", .text(started))) }
            audit.record(event)
        }
        logger.warning("\(sessions.count) sessions were left open by an rttyd that did not stop cleanly; recorded as ended abnormally")
    }

    private func cleanUp() {
        if !config.paths.pidFile.isEmpty {
            PidFile.remove(config.paths.pidFile)
        }
    }

    private func startConsole(_ console: Config.Console, paths: Config.Paths) async throws {
        let hub = ConsoleHub(config: console, paths: paths, loop: group.next(), access: access, audit: audit, logger: logger)
        hub.metrics = metrics.isOn ? metrics.console(console.name) : nil
        try await hub.loop.flatSubmit { hub.start() }.get()
        update { $0.hubs[console.name] = hub }
    }

    private func stopAll(reason: ClosingNotice) async {
        for hub in hubs.values {
            try? await hub.loop.flatSubmit { hub.stop(reason: reason) }.get()
        }
        update { $0.hubs.removeAll() }
    }

    /// SIGHUP: a new config is applied only if it is entirely valid; consoles that did not
    /// change keep their device and their clients (their logs are reopened, for rotation).
    private func reload() async -> ReloadOutcome {
        metrics.reloads.increment()
        let new: Config
        do {
            new = try Daemon.loadConfig(configPath)
        } catch {
            let outcome = ReloadOutcome(refused: "reload refused, keeping the running configuration: \(error)")
            logger.error("\(outcome.refused ?? "")")
            return outcome
        }
        var outcome = ReloadOutcome()
        let old = current
        var plan = ReloadPlan(old: old.config, new: new)
        let access = new.paths.access == old.config.paths.access ? old.access : AccessControl(path: new.paths.access, logger: logger)
        let audit = new.paths.auditLog == old.config.paths.auditLog ? old.audit : AuditLog(path: new.paths.auditLog, logger: logger, syslog: syslog)
        syslog.configure(new)
        old.audit.close()  // a new file: moved, or logrotate/newsyslog moved it away
        audit.prepare()
        access.load()
        update {
            $0.access = access
            $0.audit = audit
        }
        if plan.pathsChanged {
            logger.warning("[paths] changed: restarting every console")
            await stopAll(reason: .restarting)
            do { try prepareDirectories(new.paths) } catch { logger.error("\(error)") }
            plan = ReloadPlan(old: Config(), new: new)
        }
        for name in plan.removed {
            guard let hub = hubs[name] else { continue }
            update { $0.hubs[name] = nil }
            try? await hub.loop.flatSubmit { hub.stop(reason: .removed(console: name)) }.get()
            logger.notice("console \(name) removed")
        }
        for console in plan.changed {
            guard let hub = hubs[console.name] else { continue }
            do {
                try await hub.loop.flatSubmit { hub.reconfigure(console) }.get()
                logger.notice("console \(console.name) reconfigured")
            } catch {
                logger.error("console \(console.name): \(error)")
                outcome.problems.append("console \(console.name): \(error)")
            }
        }
        for console in plan.added {
            do {
                try await startConsole(console, paths: new.paths)
                logger.notice("console \(console.name) added")
            } catch {
                logger.error("console \(console.name) not started: \(error)")
                outcome.problems.append("console \(console.name) not started: \(error)")
            }
        }
        for name in plan.unchanged {
            guard let hub = hubs[name] else { continue }
            hub.loop.execute { hub.log?.reopen() }
        }
        for hub in hubs.values {
            hub.loop.execute { hub.recheckAccess() }
        }
        update { $0.config = new }
        await serveMetrics(new)
        audit.record(AuditEvent(time: WallClock.now(), kind: .reload))
        outcome.summary = "configuration reloaded: \(plan.added.count) added, \(plan.removed.count) removed, \(plan.changed.count) changed"
        logger.notice("\(outcome.summary)")
        return outcome
    }
}
