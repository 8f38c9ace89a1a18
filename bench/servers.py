"""The servers under test and their guests, for bench/run.py.

Each server is a context manager built on guests (Guest: a bench/load.c process holding a
pty or a Unix socket). It says how clients reach it: `readers(n)` gives the endpoints and
framing for `load read` (starting the peer's own client programs where it has them), and
`rtt_argv()` the arguments for `load rtt`.
"""
import atexit, grp, os, pwd, resource, shutil, signal, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = tempfile.mkdtemp(prefix="rtty-bench-")
LOAD = os.path.join(WORK, "load")
RELAY = os.path.join(WORK, "relay")
PROGRAMS = {"socat": "socat", "conserver": "conserver", "ser2net": "ser2net"}


# Every server process started, so that none outlives the run: a leftover rttyd keeps
# reopening its consoles' /dev/pts paths, and the next guest given the same pty number
# would lose bytes to it (it did: a killed run made every later pty row time out).
STARTED = []


def kill_leftovers():
    for p in STARTED:
        if p.poll() is None:
            for pid in reversed(tree(p.pid)):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
    shutil.rmtree(WORK, ignore_errors=True)  # the guests' sockets, configs, logs, transcripts


atexit.register(kill_leftovers)


def interrupted(*_):
    # KeyboardInterrupt, not SystemExit: said() takes a SystemExit for a failed run.
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, interrupted)
signal.signal(signal.SIGHUP, interrupted)


def build_load():
    compiler = shutil.which("cc") or shutil.which("clang") or "/opt/swift/usr/bin/clang"
    subprocess.run([compiler, "-O2", "-Wall", "-o", LOAD, os.path.join(HERE, "load.c"), "-lutil"], check=True)
    subprocess.run([compiler, "-O2", "-Wall", "-o", RELAY, os.path.join(HERE, "relay.c")], check=True)
    # 1,000 consoles need more than the usual 1,024 descriptors, here and in the servers.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


WANTED = set(PROGRAMS) | {"rttyd", "relay"}


def available(name):
    server = name.split()[0]
    program = PROGRAMS.get(server)
    return server in WANTED and (program is None or shutil.which(program) is not None)


def require_tools(ci):
    missing = [p for p in ("socat", "conserver", "console", "ser2net") if not shutil.which(p)]
    if missing:
        message = f"bench: not installed: {', '.join(missing)} (apt-get install socat conserver-server " \
                  "conserver-client ser2net); their rows are left out"
        if ci:
            raise SystemExit(message)
        print(message)


def versions():
    out = []
    for program, argv in (("socat", ["socat", "-V"]), ("conserver", ["conserver", "-V"]),
                          ("ser2net", ["ser2net", "-v"])):
        if shutil.which(program):
            text = subprocess.run(argv, capture_output=True, text=True).stdout + \
                subprocess.run(argv, capture_output=True, text=True).stderr
            words = [w for w in text.split() if w[:1].isdigit() and "." in w]
            out.append(f"{program} {words[0] if words else '?'}")
    return ", ".join(out)


def runtime(rttyd):
    """How `rttyd` carries the Swift runtime: a build without --static-swift-stdlib (plain
    `swift build -c release` writes the same .build/release) maps libswiftCore.so and
    friends, about 2.5 MiB more RSS at rest than `make`'s static build (shared libraries
    are counted whole)."""
    libraries = subprocess.run(["ldd", rttyd], capture_output=True, text=True).stdout
    return "rttyd: dynamic Swift runtime" if "libswiftCore" in libraries else "rttyd: static Swift runtime"


def write_report(path, text):
    """Prints a benchmark's result and writes it to `path` (its directory made if need be)."""
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def expect_line(process, want, timeout):
    """Reads `process`'s stdout until a line equal to `want` (bounded in time)."""
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        for line in process.stdout:
            if line.strip() == want:
                return
        raise SystemExit(f"bench: {process.args[:3]} ended without saying {want!r} (exit {process.wait()})")
    finally:
        timer.cancel()


def said(process, want, timeout):
    """Like expect_line, but False (instead of an exit) when the process ends first."""
    try:
        expect_line(process, want, timeout)
        return True
    except SystemExit as e:
        print(f"  {e}", flush=True)
        return False


def stop(process):
    if process.poll() is None:
        process.kill()
    process.wait()


def unix_listening(path):
    """Whether a Unix socket bound to `path` listens (/proc/net/unix: flag __SO_ACCEPTCON)."""
    with open("/proc/net/unix") as f:
        next(f)
        return any(len(cells) > 7 and cells[7] == path and int(cells[3], 16) & 0x10000
                   for cells in (line.split() for line in f))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what, timeout=30):
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"bench: timed out waiting for {what}")
        time.sleep(0.005)


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def tree(pid):
    """`pid` and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def processes_naming(text):
    """Processes whose command line contains `text` (a unique work directory)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def command(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:120]
    except OSError:
        return "?"


def openers(device):
    """Processes that hold `device` open (pid list)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if any(os.readlink(f"/proc/{entry}/fd/{fd}") == device for fd in os.listdir(f"/proc/{entry}/fd")):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def tree_cpu_seconds(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def tree_rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Guest:
    """`load source|echo pty|unix:PATH`: `device` is the pty's slave path or the socket."""

    def __init__(self, mode, kind):
        self.kind = kind
        spec = "pty" if kind == "pty" else "unix:" + tempfile.mktemp(prefix="guest-", dir=WORK)
        self.process = subprocess.Popen([LOAD, mode, spec], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.device = self.process.stdout.readline().strip()

    def send(self, nbytes):
        self.process.stdin.write(f"send {nbytes}\n")
        self.process.stdin.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        stop(self.process)


class IdlePtys:
    """`count` pty pairs that say nothing, for the at-rest figures."""

    def __init__(self, count):
        import pty, tty
        self.pairs = []
        for _ in range(count):
            master, slave = pty.openpty()
            tty.setraw(slave)
            self.pairs.append((master, slave))
        self.paths = [Path(os.ttyname(s)) for _, s in self.pairs]

    def close(self):
        for master, slave in self.pairs:
            os.close(master)
            os.close(slave)


class Path:
    """A device path standing in for a Guest where only the path matters."""

    def __init__(self, device):
        self.device, self.kind = device, "pty"


class Server:
    pid = None
    framing = "raw"
    settle_seconds = 0.3

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in getattr(self, "processes", []):
            # Children too: conserver's own processes leave the process group.
            for pid in reversed(tree(p.pid)):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            stop(p)
        # And any that left the tree too (conserver's, reparented to init): they name
        # this server's own work directory on their command line.
        for pid in processes_naming(self.work):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.work, ignore_errors=True)

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        STARTED.append(p)
        self.processes = getattr(self, "processes", []) + [p]
        self.pid = self.processes[0].pid
        return p

    def pass_fds(self, endpoints):
        return [int(e[3:]) for e in endpoints if e.startswith("fd:")]

    def settle(self, clients):
        time.sleep(self.settle_seconds)

    def readers(self, n):
        return [self.endpoint] * n, self.framing, []

    def rtt_argv(self):
        return [self.framing, self.endpoint]


class Socat(Server):
    """The baseline: one socat relaying the guest to one Unix-socket client."""

    def __init__(self, guest, fork=False):
        self.work = tempfile.mkdtemp(dir=WORK)
        sock = os.path.join(self.work, "sock")
        target = f"OPEN:{guest.device},rawer" if guest.kind == "pty" else f"UNIX-CONNECT:{guest.device}"
        listen = f"UNIX-LISTEN:{sock},mode=777" + (",fork" if fork else "")
        self.start(["socat", "-b", "65536", listen, target], stderr=subprocess.DEVNULL)
        # Not when the file exists: socat binds, then listens, and a client that connects
        # in between is refused (it happened). Probing by connecting would use up the one
        # connection socat without fork serves.
        wait_for(lambda: unix_listening(sock), "socat's socket")
        self.endpoint = "unix:" + sock

    def readers(self, n):
        if n != 1:
            raise SystemExit("socat serves one client")
        return super().readers(n)


class Relay(Server):
    """The reference for N clients: bench/relay.c, one read, the same bytes to N sockets."""

    def __init__(self, guest, clients):
        self.work = tempfile.mkdtemp(dir=WORK)
        sock = os.path.join(self.work, "sock")
        source = ("pty:" if guest.kind == "pty" else "unix:") + guest.device
        relay = self.start([RELAY, str(clients), source, sock], stdout=subprocess.PIPE, text=True)
        expect_line(relay, "listening", 30)
        self.endpoint = "unix:" + sock
        self.clients = clients

    def readers(self, n):
        if n != self.clients:
            raise SystemExit(f"this relay was started for {self.clients} clients")
        return super().readers(n)


# What each rttyd row runs: keys written under [defaults]. "defaults" writes none of them,
# so whatever rttyd ships applies; "recording off" turns off what records sessions (the
# console's recording, <console>.recording/ segments, and the <session>.session files
# under session_dir: docs/RECORDING.md) and keeps the console log; "tuned" turns off
# both. The one place to change when the recording settings change.
PROFILES = {
    "defaults": {},
    "recording off": {"transcript": "false"},
    "tuned": {"log": "false", "transcript": "false"},
}


class Rttyd(Server):
    def __init__(self, rttyd, guests, tcp=False, profile="tuned", settings=None, console_extra="", etc=None,
                 group=None, metrics=False):
        """`profile`: a PROFILES key; `settings`: more [defaults] keys (name: TOML value text);
        `console_extra`: config text appended to every console's table (triggers, say), or
        a function of the console's name ("c0", ...) that gives it; `metrics`: serve
        Prometheus metrics on a free loopback port (off, the endpoint and its counters go);
        `etc`: where rtty.conf and the ACL go (default: the work directory). Anything the
        daemon writes for logs and recordings must stay under self.log_dir: disk_bytes()
        counts it there."""
        self.work = tempfile.mkdtemp(dir=WORK)
        w = self.work
        etc = etc or w
        group = group or grp.getgrgid(os.getegid()).gr_name
        keys = {**PROFILES[profile], **(settings or {})}
        consoles = ""
        self.tcp_port = free_port() if tcp else None
        for i, g in enumerate(guests):
            source = f'device = "{g.device}"' if g.kind == "pty" else f'unix = "{g.device}"'
            consoles += f"[console.c{i}]\n{source}\n"
            if tcp:
                consoles += f'tcp = "127.0.0.1:{self.tcp_port}"\ntcp_mode = "raw"\n'
            extra = console_extra(f"c{i}") if callable(console_extra) else console_extra
            consoles += extra.rstrip("\n") + "\n" if extra else ""
        self.log_dir = f"{w}/log"
        self.config = os.path.join(etc, "rtty.conf")
        with open(self.config, "w") as f:
            f.write(f"""[paths]
socket_dir = "{w}/run"
control = "{w}/run/control"
log_dir = "{w}/log"
audit_log = "{w}/log/audit.jsonl"
session_dir = "{w}/log/sessions"
access = "{etc}/access"
pid_file = "{w}/run/rttyd.pid"
[defaults]
group = "{group}"
{"".join(f"{k} = {v}" + chr(10) for k, v in keys.items())}client_queue_bytes = 268435456
max_clients = 10000
max_clients_per_user = 10000
{consoles}""")
            if metrics:
                f.write(f'[control]\nmetrics = "127.0.0.1:{free_port()}"\n')
        self.lines = []
        self.daemon = self.start([rttyd, "--config", self.config], stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._collect, daemon=True).start()
        self.count = len(guests)
        self.console_names = {f"c{i}" for i in range(len(guests))}
        self.endpoint = f"tcp:127.0.0.1:{self.tcp_port}" if tcp else f"unix:{w}/run/c0"
        self.framing = "raw" if tcp else "rtty"
        self.wait_ready(self.count)

    def _collect(self):
        for line in self.daemon.stderr:
            self.lines.append((time.monotonic(), line))

    def _wait_log(self, text, count=1, after=0):
        wait_for(lambda: sum(1 for _, line in self.lines[after:] if text in line) >= count or
                 self.daemon.poll() is not None, f"rttyd to log {text!r}", timeout=60)
        if self.daemon.poll() is not None:
            raise SystemExit("rttyd exited:\n" + "".join(line for _, line in self.lines))
        return [t for t, line in self.lines[after:] if text in line][count - 1]

    def wait_ready(self, count):
        """When every console's source is open and the daemon says it is running."""
        running = self._wait_log("rttyd running")
        return max(running, self._wait_log("source open", count))

    def disk_bytes(self):
        """(console log bytes, other bytes: the recording's segments and session files,
        session_dir being under the log directory, and the audit log) on disk under the
        log directory, in allocated blocks as du counts them."""
        console_log = other = 0
        for top, _, files in os.walk(self.log_dir):
            for name in files:
                try:
                    size = os.lstat(os.path.join(top, name)).st_blocks * 512
                except OSError:
                    continue
                if top == self.log_dir and name.split(".")[0] in self.console_names and ".log" in name:
                    console_log += size
                else:
                    other += size
        return console_log, other

    def snapshot(self, settled=False):
        """Disk and memory figures now; `settled`: first wait until the daemon's writes to
        storage stop growing (transcripts flush on a timer), at most 15 s."""
        if settled:
            end, last = time.monotonic() + 15, -1
            while self.written_bytes() != last and time.monotonic() < end:
                last = self.written_bytes()
                time.sleep(0.3)
        console_log, other = self.disk_bytes()
        status = {}
        with open(f"/proc/{self.daemon.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    status[line.split(":")[0]] = int(line.split()[1])
        return {"console_log": console_log, "recording": other, "written": self.written_bytes(),
                "rss_kib": status["VmRSS"], "hwm_kib": status["VmHWM"], "cpu_s": tree_cpu_seconds(self.daemon.pid)}

    def written_bytes(self):
        """What the daemon has caused to be written to storage (/proc/PID/io write_bytes)."""
        with open(f"/proc/{self.daemon.pid}/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("write_bytes:"))

    def reload_seconds(self):
        before = len(self.lines)
        started = time.monotonic()
        self.daemon.send_signal(signal.SIGHUP)
        return self._wait_log("configuration reloaded", after=before) - started


class Conserver(Server):
    """conserver and its own `console` clients (their stdout is what the readers check)."""

    settle_seconds = 1.0

    def __init__(self, guests, log=False):
        self.work = tempfile.mkdtemp(dir=WORK)
        self.port = free_port()
        logfile = f"logfile {self.work}/&.log; timestamp \"\";" if log else ""
        consoles = "".join(f"console c{i} {{ type device; device {g.device}; baud 115200; parity none; options !ixon,!ixany,!ixoff; }}\n"
                           for i, g in enumerate(guests) if g.kind == "pty")
        if not consoles:
            raise SystemExit("conserver is benchmarked with pty guests")
        with open(os.path.join(self.work, "conserver.cf"), "w") as f:
            f.write(f"config * {{ sslrequired no; }}\n"
                    f"default * {{ {logfile} rw *; master 127.0.0.1; }}\n{consoles}"
                    "access * { trusted 127.0.0.1; allowed 127.0.0.1; }\n")
        with open(os.path.join(self.work, "conserver.passwd"), "w") as f:
            f.write("*any*:\n")
        self.start(["conserver", "-C", f"{self.work}/conserver.cf", "-P", f"{self.work}/conserver.passwd",
                    "-p", str(self.port), "-M", "127.0.0.1", "-a", "a"],
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "conserver.log"), "w"))
        self.count = len(guests)
        # Many consoles take conserver a while (about 5 s per 100 here).
        wait_for(lambda: can_connect(self.port), "conserver's port", timeout=60 + len(guests) * 0.2)

    def console(self, spy):
        return ["console", "-M", "127.0.0.1", "-p", str(self.port), "-s" if spy else "-f", "c0"]

    def readers(self, n):
        endpoints, helpers = [], []
        for _ in range(n):
            r, w = os.pipe()
            helpers.append(subprocess.Popen(self.console(spy=True), stdin=subprocess.DEVNULL, stdout=w,
                                            stderr=subprocess.DEVNULL))
            os.close(w)
            endpoints.append(f"fd:{r}")
        return endpoints, "raw", helpers

    def settle(self, clients):
        time.sleep(1.0 + clients * 0.02)

    def rtt_argv(self):
        return ["ptycmd", "--"] + self.console(spy=False)

    def wait_ready(self, count):
        return time.monotonic()


class Ser2net(Server):
    def __init__(self, guests):
        self.work = tempfile.mkdtemp(dir=WORK)
        self.base = free_port() if len(guests) == 1 else 21000
        text = ""
        for i, g in enumerate(guests):
            if g.kind != "pty":
                raise SystemExit("ser2net is benchmarked with pty guests")
            text += (f"connection: &c{i}\n  accepter: tcp,127.0.0.1,{self.base + i}\n"
                     f"  connector: serialdev,{g.device},115200n81,local\n"
                     "  options:\n    max-connections: 100\n    kickolduser: false\n    chardelay: false\n")
        with open(os.path.join(self.work, "ser2net.yaml"), "w") as f:
            f.write(text)
        self.start(["ser2net", "-n", "-d", "-c", f"{self.work}/ser2net.yaml", "-P", f"{self.work}/ser2net.pid"],
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "ser2net.log"), "w"))
        self.count = len(guests)
        self.endpoint = f"tcp:127.0.0.1:{self.base}"
        wait_for(lambda: self.listening() >= self.count, "ser2net's ports")

    def listening(self):
        ports = 0
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                port = int(local.split(":")[1], 16)
                if state == "0A" and self.base <= port < self.base + self.count:
                    ports += 1
        return ports

    def wait_ready(self, count):
        return time.monotonic()


PAM_PERMIT = next((p for p in ("/lib/x86_64-linux-gnu/security/pam_permit.so",
                               "/usr/lib/x86_64-linux-gnu/security/pam_permit.so",
                               "/lib/aarch64-linux-gnu/security/pam_permit.so") if os.path.exists(p)), "pam_permit.so")


class SSHRig:
    """A private sshd on 127.0.0.1 with two users: `rbench` whose login shell is a setgid
    copy of rtty-shell (granted the console), and `sbench` with /bin/sh for the baseline
    `socat - UNIX-CONNECT`. Both the rttyd console and the socat socket serve an echo guest.
    The setgid shell takes no path from its caller: it reads /etc/rtty/rtty.conf and the
    ACL it names only where no one but root can write, and the system's PAM service. So
    rttyd's config and ACL live in a root-only directory under /var/lib, and sshd runs in a
    private mount namespace where that directory is /etc/rtty and ours is /etc/pam.d."""

    def __init__(self, rttyd):
        self.rttyd_path = rttyd
        self.work = tempfile.mkdtemp(dir=WORK)
        os.chmod(WORK, 0o755)
        os.chmod(self.work, 0o755)
        self.group = "rbenchsock"
        self.users = []
        self.etc = tempfile.mkdtemp(prefix="rtty-bench-etc-", dir="/var/lib")
        os.chmod(self.etc, 0o755)

    def __enter__(self):
        w = self.work
        subprocess.run(["groupadd", "-f", self.group], check=True)
        shell = os.path.join(w, "rtty-shell")
        shutil.copy(os.path.join(os.path.dirname(self.rttyd_path), "rtty-shell"), shell)
        shutil.chown(shell, group=self.group)
        os.chmod(shell, 0o2755)
        for user, login in (("rbench", shell), ("sbench", "/bin/sh")):
            subprocess.run(["userdel", "-f", user], capture_output=True)
            subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", login, "-p", "*", user], check=True)
            self.users.append(user)
        self.key = os.path.join(w, "key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key], check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", w + "/host_key"], check=True)
        os.makedirs(w + "/keys")
        for user in self.users:
            shutil.copy(self.key + ".pub", f"{w}/keys/{user}")
        os.makedirs(w + "/pam")
        with open(w + "/pam/rtty", "w") as f:
            f.write(f"auth required {PAM_PERMIT}\naccount required {PAM_PERMIT}\n")
        self.rtty_guest = Guest("echo", "pty").__enter__()
        self.socat_guest = Guest("echo", "pty").__enter__()
        with open(self.etc + "/access", "w") as f:
            f.write("rbench c0 rw\n")
        self.rttyd = Rttyd(self.rttyd_path, [self.rtty_guest], etc=self.etc, group=self.group)
        os.chmod(self.rttyd.work, 0o755)
        self.socat = Socat(self.socat_guest, fork=True)  # one ssh session after another
        os.chmod(self.socat.work, 0o755)
        self.port = free_port()
        os.makedirs("/run/sshd", exist_ok=True)
        with open(w + "/sshd_config", "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {w}/host_key\nPidFile {w}/sshd.pid\n"
                    f"AuthorizedKeysFile {w}/keys/%u\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\n")
        os.makedirs("/etc/rtty", mode=0o755, exist_ok=True)  # as installed; the namespace binds over it
        binds = 'mount --bind "$1" /etc/rtty && mount --bind "$2" /etc/pam.d && shift 2 && exec "$@"'
        self.sshd = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", binds, "sh", self.etc, w + "/pam",
                                      "/usr/sbin/sshd", "-D", "-e", "-f", w + "/sshd_config"],
                                     stderr=open(w + "/sshd.log", "w"), start_new_session=True)
        wait_for(lambda: can_connect(self.port), "sshd")
        return self

    def ssh(self, user, command):
        return ["ssh", "-T", "-p", str(self.port), "-i", self.key, "-F", "/dev/null", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-e", "none", f"{user}@127.0.0.1"] + command

    def baseline_argv(self):
        return self.ssh("sbench", ["socat", "-", "UNIX-CONNECT:" + self.socat.endpoint[5:]])

    def rtty_argv(self):
        return self.ssh("rbench", ["c0"])

    def log(self):
        with open(self.work + "/sshd.log") as f:
            return f.read()

    def __exit__(self, *exc):
        try:
            os.killpg(self.sshd.pid, signal.SIGKILL)
        except OSError:
            pass
        stop(self.sshd)
        for part in (self.socat, self.rttyd, self.socat_guest, self.rtty_guest):
            part.__exit__(None, None, None)
        for user in self.users:
            subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
            subprocess.run(["userdel", "-f", user], capture_output=True)
        subprocess.run(["groupdel", self.group], capture_output=True)
        shutil.rmtree(self.etc, ignore_errors=True)
