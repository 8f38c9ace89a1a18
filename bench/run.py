#!/usr/bin/env python3
"""rtty against socat, conserver, ser2net and a minimal relay, on the same guests, in one run.

Usage: bench/run.py [--quick] [--runs N] [--only throughput,fanout,memory,rtt,ssh,idle,logging,metrics,triggers]
                    [--rttyd PATH] [--out FILE]

Every guest and client is bench/load.c (compiled here), so each server is driven by the
same code; the fan-out reference is bench/relay.c (compiled here too). Every figure is
the median of --runs runs, shown as a ratio to a baseline measured in the same run
(socat, the relay at the same client count, rttyd tuned or with recording off); the last
table checks the goals against them. The table is printed and written to
bench/results/latest.txt. See docs/BENCHMARKS.md for what each row means.
"""
import argparse, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import servers  # noqa: E402
from servers import Guest, Relay, Rttyd, Socat, Conserver, Ser2net, LOAD, tree_cpu_seconds, tree_rss_kib  # noqa: E402


def median(values):
    return statistics.median(values) if values else float("nan")


# ---- throughput ----

RUN_TIMEOUT = 90  # seconds: a server slower than nbytes/RUN_TIMEOUT is shown as such


def throughput_once(server_factory, guest_kind, nbytes, clients, measure=False):
    """One run: {"seconds": from the guest's first byte until every client holds all
    `nbytes`} (None if a client got wrong or missing bytes, inf past RUN_TIMEOUT). With
    `measure` (an rttyd), also what it wrote to disk during the run and its memory at the
    end, the clients still attached: the Rttyd.snapshot figures, "d_" for the deltas.
    A run that failed while a process not of this benchmark held the guest's pty open
    is run again (up to twice): that process read bytes meant for the server."""
    for attempt in range(3):
        out, thieves = throughput_attempt(server_factory, guest_kind, nbytes, clients, measure)
        if out["seconds"] not in (None, float("inf")) or not thieves or attempt == 2:
            return out
        print(f"  (the guest's pty was also open in {thieves}: run again)", flush=True)


def foreign_openers(guest):
    """Processes outside this benchmark holding the guest's pty (a daemon elsewhere on the
    machine reopening a /dev/pts path that now names our guest), as "pid command"."""
    if guest.kind != "pty":
        return []
    ours = set(servers.processes_naming(servers.WORK))
    return [f"{pid} {servers.command(pid)}" for pid in servers.openers(guest.device) if pid not in ours]


def throughput_attempt(server_factory, guest_kind, nbytes, clients, measure):
    with Guest("source", guest_kind) as guest, server_factory(guest) as server:
        endpoints, framing, helpers = server.readers(clients)
        reader = subprocess.Popen([LOAD, "read", str(nbytes), framing] + endpoints, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, pass_fds=server.pass_fds(endpoints))
        try:
            servers.expect_line(reader, "ready", 30)
            server.settle(clients)
            before = server.snapshot() if measure else None
            started = time.monotonic()
            guest.send(nbytes)
            if not servers.said(reader, "done", RUN_TIMEOUT):
                # Killed at the deadline, or a client lost or got wrong bytes (load said where).
                late = time.monotonic() - started >= RUN_TIMEOUT
                return {"seconds": float("inf") if late else None}, foreign_openers(guest)
            out = {"seconds": time.monotonic() - started}
            if measure:
                after = server.snapshot(settled=True)
                out.update(after)
                out.update({"d_" + k: after[k] - before[k] for k in ("console_log", "recording", "written", "cpu_s")})
            return out, []
        finally:
            servers.stop(reader)
            for helper in helpers:
                servers.stop(helper)


def rttyd_factory(a, profile="tuned", **options):
    """A server factory for one rttyd console on the guest. `profile`: servers.PROFILES
    ("defaults", "recording off", "tuned"); options go to servers.Rttyd: tcp=True,
    settings={key: TOML value}, console_extra=TEXT (or a function of the console name
    giving the text) appended to the console's table, e.g. triggers."""
    return lambda g: Rttyd(a.rttyd, [g], profile=profile, **options)


def run_cases(a, nbytes, cases, measure=False):
    """Runs every case once per round, --runs rounds (so a noisy neighbour hits them all
    alike). cases: (name, guest kind, clients, factory). Returns {(name, kind, clients):
    [run dicts]}; a case that passed RUN_TIMEOUT is not run again."""
    results = {}
    for _ in range(a.runs):
        for name, kind, clients, factory in list(cases):
            if not servers.available(name):
                continue
            run = throughput_once(factory, kind, nbytes, clients, measure=measure and name.startswith("rttyd"))
            seconds = run["seconds"]
            run["rate"] = nbytes / seconds if seconds else None
            results.setdefault((name, kind, clients), []).append(run)
            print(f"  throughput {name} {kind} x{clients}: "
                  f"{f'{nbytes / seconds / 1e6:.1f} MB/s' if seconds else 'bytes lost'}", flush=True)
            if run.get("d_recording"):
                print(f"  recording written: {run['d_recording'] / nbytes:.2f}x the output", flush=True)
            if seconds == float("inf"):
                print(f"  (over {RUN_TIMEOUT} s: not run again)", flush=True)
                cases = [c for c in cases if c[:3] != (name, kind, clients)]
    return results


def rate(runs):
    """Median MB/s-in-bytes of the runs, None if any lost bytes, 0 if any timed out."""
    rates = [r["rate"] for r in runs]
    if None in rates:
        return None
    return 0.0 if 0.0 in rates else median(rates)


def rate_cell(runs, nbytes):
    m = rate(runs)
    return "lost bytes" if m is None else f"<{nbytes / RUN_TIMEOUT / 1e6:.1f}" if m == 0 else f"{m / 1e6:.1f}"


def ratio(runs, base_runs):
    m, b = rate(runs), rate(base_runs or [])
    return f"{m / b:.2f}" if m and b else "-"


def throughput_compare(a, table, title, cases, nbytes=None):
    """The row hook for other comparisons: cases (name, factory) on one pty guest, one
    client, every byte checked; each shown in MB/s and as a ratio to the first case."""
    nbytes = nbytes or a.mib << 20
    results = run_cases(a, nbytes, [(name, "pty", 1, factory) for name, factory in cases])
    table.section(f"{title}: {a.mib} MiB, 1 client, pty guest (MB/s, median of {a.runs})")
    table.header("rttyd", "MB/s", f"x {cases[0][0]}")
    base = results.get((cases[0][0], "pty", 1))
    for (name, _, _), runs in results.items():
        table.row(name, rate_cell(runs, nbytes), ratio(runs, base))
    return results


def bench_throughput(a, table):
    """One client: the defaults first (what users run), then tuned, the peers, socat."""
    nbytes = a.mib << 20
    cases = []
    for kind in ("pty", "unix"):
        cases += [("socat", kind, 1, lambda g: Socat(g)),
                  ("rttyd defaults", kind, 1, rttyd_factory(a, "defaults")),
                  ("rttyd tuned", kind, 1, rttyd_factory(a, "tuned"))]
        if kind == "pty":
            cases += [("rttyd tuned tcp raw", kind, 1, rttyd_factory(a, "tuned", tcp=True)),
                      ("conserver", kind, 1, lambda g: Conserver([g])),
                      ("ser2net", kind, 1, lambda g: Ser2net([g]))]
    results = run_cases(a, nbytes, cases, measure=True)  # measured after the timing: the disk lines
    table.section(f"Throughput, 1 client: {a.mib} MiB of guest output, every byte checked "
                  f"(MB/s, median of {a.runs}); defaults = log and recording on, tuned = both off")
    table.header("server", "guest", "MB/s", "x socat", "x tuned")
    for (name, kind, clients), runs in results.items():
        tuned = name.startswith("rttyd") and name != "rttyd tuned"
        table.row(name, kind, rate_cell(runs, nbytes), ratio(runs, results.get(("socat", kind, 1))),
                  ratio(runs, results.get(("rttyd tuned", kind, 1))) if tuned else "-")
    GOALS["throughput"] = results


def bench_fanout(a, table):
    """N clients against the C relay at the same N (the least a fan-out costs), and the
    50 read-write clients with recording on and off, with what went to disk."""
    nbytes = a.mib << 20
    cases = []
    for n in a.fanout:
        cases += [("relay", "pty", n, lambda g, n=n: Relay(g, n)),
                  ("rttyd defaults", "pty", n, rttyd_factory(a, "defaults")),
                  ("rttyd tuned", "pty", n, rttyd_factory(a, "tuned"))]
    n = a.clients
    cases += [("rttyd recording off", "pty", n, rttyd_factory(a, "recording off")),
              ("conserver", "pty", n, lambda g: Conserver([g])),
              ("ser2net", "pty", n, lambda g: Ser2net([g])),
              ("relay", "unix", n, lambda g: Relay(g, n)),
              ("rttyd tuned", "unix", n, rttyd_factory(a, "tuned"))]
    results = run_cases(a, nbytes, cases, measure=True)
    table.section(f"Fan-out: {a.mib} MiB to N clients, every byte checked at every client "
                  f"(MB/s per client, median of {a.runs}); relay = bench/relay.c, one read, "
                  "the same bytes written to N sockets")
    table.header("server", "guest", "clients", "MB/s", "x relay")
    for (name, kind, clients), runs in sorted(results.items(), key=lambda kv: (kv[0][1] != "pty", kv[0][2])):
        table.row(name, kind, clients, rate_cell(runs, nbytes), ratio(runs, results.get(("relay", kind, clients))))

    table.section(f"{n} read-write clients: recording on (defaults) and off, {a.mib} MiB of console "
                  "output; disk = du of the log directory without the console log (session_dir: "
                  "recording segments, session files; audit), written = the daemon's storage writes, both per console byte")
    table.header("rttyd", "MB/s", "x rec off", "disk MB", "disk x out", "written x out")
    for name in ("rttyd defaults", "rttyd recording off", "rttyd tuned"):
        runs = results.get((name, "pty", n))
        if not runs or rate(runs) is None:
            continue
        disk = median([r.get("d_recording", 0) for r in runs])
        written = median([r.get("d_written", 0) for r in runs])
        table.row(name, rate_cell(runs, nbytes), ratio(runs, results.get(("rttyd recording off", "pty", n))),
                  f"{disk / 1e6:.1f}", f"{disk / nbytes:.2f}", f"{written / nbytes:.2f}")
    GOALS["fanout"] = results


def bench_memory(a, table):
    """rttyd's RSS at the end of a run with 1 and with M attached clients: the per-session
    cost is the difference over M-1."""
    nbytes = a.memory_mib << 20
    m = a.memory_clients
    cases = [(profile, "pty", c, rttyd_factory(a, profile.split(" ", 1)[1]))
             for profile in ("rttyd defaults", "rttyd tuned") for c in (1, m)]
    results = run_cases(a, nbytes, cases, measure=True)
    table.section(f"Memory: rttyd RSS after {a.memory_mib} MiB of output with its clients still attached "
                  f"(MiB, median of {a.runs}; peak = VmHWM); per session = (RSS x{m} - RSS x1) / {m - 1}")
    table.header("rttyd", "clients", "RSS MiB", "peak MiB", "per session KiB")
    for (name, _, clients), runs in results.items():
        if rate(runs) is None:
            table.row(name, clients, "lost bytes", "-", "-")
            continue
        rss = median([r["rss_kib"] for r in runs])
        one = results.get((name, "pty", 1))
        per = (rss - median([r["rss_kib"] for r in one])) / (m - 1) if clients == m and one and rate(one) else None
        table.row(name, clients, f"{rss / 1024:.1f}", f"{median([r['hwm_kib'] for r in runs]) / 1024:.1f}",
                  f"{per:.0f}" if per is not None else "-")
    GOALS["memory"] = results


# ---- keystroke round trip ----

def rtt_once(server_factory, count):
    """p50 p90 p99 max; run again (up to twice) if it failed while a foreign process held
    the guest's pty (see throughput_once)."""
    for attempt in range(3):
        with Guest("echo", "pty") as guest, server_factory(guest) as server:
            argv = server.rtt_argv()
            run = subprocess.run([LOAD, "rtt", str(count)] + argv, stdout=subprocess.PIPE, text=True, timeout=300,
                                 pass_fds=server.pass_fds(argv))
            if run.returncode == 0:
                return [float(x) for x in run.stdout.split()]
            thieves = foreign_openers(guest)
        if not thieves or attempt == 2:
            raise SystemExit(f"rtt through {server_factory} failed")
        print(f"  (the guest's pty was also open in {thieves}: run again)", flush=True)


def bench_rtt(a, table):
    cases = [
        ("socat", lambda g: Socat(g)),
        ("rttyd defaults", rttyd_factory(a, "defaults")),
        ("rttyd tuned", rttyd_factory(a, "tuned")),
        ("rttyd tuned tcp raw", rttyd_factory(a, "tuned", tcp=True)),
        ("conserver", lambda g: Conserver([g])),
        ("ser2net", lambda g: Ser2net([g])),
    ]
    results = {}
    for _ in range(a.runs):
        for name, factory in cases:
            if servers.available(name):
                results.setdefault(name, []).append(rtt_once(factory, a.rtt))
                print(f"  rtt {name}: p50/p90/p99/max {results[name][-1]} us", flush=True)
    rtt_table(table, f"Keystroke round trip through an echoing pty guest, {a.rtt} keys "
              f"(microseconds, median over {a.runs} runs)", ("server", "p99 x socat"), results, "socat")
    GOALS["rtt"] = results


def rtt_table(table, title, columns, results, baseline):
    """p50 and p99 (medians over runs of `load rtt`'s p50 p90 p99 max), p99 as a ratio."""
    table.section(title)
    table.header(columns[0], "p50", "p99", columns[1])
    base = median([r[2] for r in results[baseline]])
    for name, runs in results.items():
        p50, p99 = median([r[0] for r in runs]), median([r[2] for r in runs])
        table.row(name, f"{p50:.0f}", f"{p99:.0f}", f"{p99 / base:.2f}")


def bench_ssh(a, table):
    if os.geteuid() != 0:
        table.section("Round trip over ssh: skipped (needs root to add users and run sshd)")
        return
    results = {"ssh socat - UNIX-CONNECT": [], "ssh rtty-shell -> rttyd": []}
    with servers.SSHRig(a.rttyd) as rig:
        for _ in range(a.runs):
            for name, argv in (("ssh socat - UNIX-CONNECT", rig.baseline_argv()),
                               ("ssh rtty-shell -> rttyd", rig.rtty_argv())):
                run = subprocess.run([LOAD, "rtt", str(a.rtt), "cmd", "--"] + argv, stdout=subprocess.PIPE,
                                     text=True, timeout=600)
                if run.returncode != 0:
                    raise SystemExit(f"{name} failed; sshd log:\n{rig.log()}")
                results[name].append([float(x) for x in run.stdout.split()])
                print(f"  rtt {name}: {results[name][-1]} us", flush=True)
    rtt_table(table, f"Keystroke round trip over ssh to 127.0.0.1, {a.rtt} keys (microseconds, median of {a.runs})",
              ("path", "p99 x baseline"), results, "ssh socat - UNIX-CONNECT")
    GOALS["ssh"] = results


# ---- scale at rest ----

def bench_idle(a, table):
    table.section(f"At rest: idle consoles (pty guests), RSS of all the server's processes, "
                  f"CPU seconds over {a.idle_seconds} s; rttyd start-up and reload")
    table.header("server", "consoles", "RSS MiB", "CPU s", "start s", "reload s")
    for count in a.idle_counts:
        guests = servers.IdlePtys(count)
        try:
            for name, factory in (("rttyd defaults", lambda: Rttyd(a.rttyd, guests.paths, profile="defaults")),
                                  ("conserver", lambda: Conserver(guests.paths)),
                                  ("ser2net", lambda: Ser2net(guests.paths))):
                if not servers.available(name):
                    continue
                started = time.monotonic()
                with factory() as server:
                    up = server.wait_ready(count) - started
                    time.sleep(2)  # let start-up work finish before the idle window
                    cpu = tree_cpu_seconds(server.pid)
                    time.sleep(a.idle_seconds)
                    cpu = tree_cpu_seconds(server.pid) - cpu
                    rss = tree_rss_kib(server.pid) / 1024
                    reload = server.reload_seconds() if hasattr(server, "reload_seconds") else None
                    table.row(name, count, f"{rss:.1f}", f"{cpu:.2f}", f"{up:.2f}",
                              f"{reload:.2f}" if reload is not None else "-")
                    GOALS.setdefault("idle", {})[(name, count)] = (rss, cpu, up)
                    print(f"  idle {name} x{count}: {rss:.1f} MiB, {cpu:.2f} CPU s, start {up:.2f} s", flush=True)
        finally:
            guests.close()


# ---- logging, metrics and trigger cost ----

def bench_logging(a, table):
    bench_cases(a, table, "Logging cost", [("log off", {}),
                                           ("log on, no timestamps", dict(settings=dict(log="true", timestamps="false"))),
                                           ("log on, timestamps", dict(settings=dict(log="true", timestamps="true")))])


def bench_metrics(a, table):
    """The Prometheus counters on the output path: off (no endpoint, no counters) against on."""
    bench_cases(a, table, "Metrics cost", [("metrics off", {}), ("metrics on", dict(metrics=True))])


def bench_cases(a, table, title, cases):
    """rttyd tuned with each case's rttyd_factory options, 1 client, pty and unix guests;
    ratios against the first case."""
    nbytes = a.mib << 20
    results = {}
    for _ in range(a.runs):
        for name, options in cases:
            for kind, suffix in (("pty", ""), ("unix", " (unix guest)")):
                seconds = throughput_once(rttyd_factory(a, "tuned", **options), kind, nbytes, 1)["seconds"]
                if seconds is None:
                    raise SystemExit(f"rttyd lost bytes with {name}")
                results.setdefault(name + suffix, []).append(nbytes / seconds)
    table.section(f"{title}: rttyd, 1 client, {a.mib} MiB (MB/s, median of {a.runs})")
    table.header("rttyd", "MB/s", f"x {cases[0][0]}")
    for guest in ("", " (unix guest)"):
        base = median(results[cases[0][0] + guest])
        for name, _ in cases:
            m = median(results[name + guest])
            table.row(name + guest, f"{m / 1e6:.1f}", f"{m / base:.2f}")


def shipped_triggers(console):
    """packaging/etc/triggers.conf (the shipped crash set, ten triggers) as the console's own."""
    with open(os.path.join(ROOT, "packaging/etc/triggers.conf")) as f:
        return f.read().replace("[[defaults.trigger]]", f"[[console.{console}.trigger]]")


def bench_triggers(a, table):
    """The shipped crash set against none, log off (tuned), one client: matching runs
    beside the relay, on the trigger thread. CPU = rttyd's CPU seconds (all its threads)
    during the run: on a shared machine they vary less than the wall-clock rate."""
    nbytes = a.mib << 20
    cases = [(name, kind, 1, rttyd_factory(a, "tuned", console_extra=extra)) for kind in ("pty", "unix")
             for name, extra in (("rttyd no triggers", ""), ("rttyd 10 shipped triggers", shipped_triggers))]
    results = run_cases(a, nbytes, cases, measure=True)
    table.section(f"Trigger cost: rttyd, 1 client, log off, {a.mib} MiB (MB/s and rttyd CPU s, median of {a.runs})")
    table.header("rttyd", "guest", "MB/s", "x none", "CPU s", "x none")
    for (name, kind, _), runs in results.items():
        base = results.get(("rttyd no triggers", kind, 1))
        cpu = median([r.get("d_cpu_s", 0) for r in runs]) if rate(runs) else None
        base_cpu = median([r.get("d_cpu_s", 0) for r in base]) if base and rate(base) else None
        table.row(name, kind, rate_cell(runs, nbytes), ratio(runs, base), f"{cpu:.2f}" if cpu is not None else "-",
                  f"{cpu / base_cpu:.2f}" if cpu is not None and base_cpu else "-")
    GOALS["triggers"] = results


# ---- goals (issue 15), from the figures of this run ----

GOALS = {}  # each part leaves its results here for goal_rows


def goal_rows(a):
    """(goal, figure) for every goal whose figures this run has."""
    out = []

    def x(results, name, kind, clients, base):
        runs, b = results.get((name, kind, clients)), results.get(base)
        return rate(runs) / rate(b) if runs and b and rate(runs) and rate(b) else None

    def add(goal, value, limit, higher=True, unit="x"):
        if value is not None:
            met = value >= limit if higher else value <= limit
            out.append((goal, f"{value:.2f}{unit}", "met" if met else "missed"))

    t = GOALS.get("throughput", {})
    add("defaults >= 0.95x socat, 1 client, pty", x(t, "rttyd defaults", "pty", 1, ("socat", "pty", 1)), 0.95)
    add("defaults >= 0.9x tuned, 1 client, pty", x(t, "rttyd defaults", "pty", 1, ("rttyd tuned", "pty", 1)), 0.9)
    add("tuned >= 1.0x socat, pty", x(t, "rttyd tuned", "pty", 1, ("socat", "pty", 1)), 1.0)
    add("tuned >= 1.0x socat, unix guest", x(t, "rttyd tuned", "unix", 1, ("socat", "unix", 1)), 1.0)
    f, n = GOALS.get("fanout", {}), a.clients
    add(f"{n} rw clients: defaults >= 0.8x recording off",
        x(f, "rttyd defaults", "pty", n, ("rttyd recording off", "pty", n)), 0.8)
    runs = f.get(("rttyd defaults", "pty", n))
    if runs and rate(runs):
        add(f"{n} rw clients: recording on disk about 1x the output (< 1.5x)",
            median([r["d_recording"] for r in runs]) / (a.mib << 20), 1.5, higher=False, unit="x out")
    for name in ("rttyd defaults", "rttyd tuned"):
        add(f"{name} at {n} clients >= 0.9x relay", x(f, name, "pty", n, ("relay", "pty", n)), 0.9)
    g = GOALS.get("triggers", {})
    add("10 shipped triggers >= 0.95x none, 1 client, pty (issue 17)",
        x(g, "rttyd 10 shipped triggers", "pty", 1, ("rttyd no triggers", "pty", 1)), 0.95)
    m = GOALS.get("memory", {})
    for name in ("rttyd defaults", "rttyd tuned"):
        runs = m.get((name, "pty", a.memory_clients))
        if runs and rate(runs):
            add(f"{name}: RSS with {a.memory_clients} clients after {a.memory_mib} MiB < 64 MiB",
                median([r["rss_kib"] for r in runs]) / 1024, 64, higher=False, unit=" MiB")
    for part, base, name, goal in (("rtt", "socat", "rttyd tuned", "keystroke p99 tuned <= 1.1x socat"),
                                   ("ssh", "ssh socat - UNIX-CONNECT", "ssh rtty-shell -> rttyd",
                                    "ssh path p99 <= 1.1x ssh ... socat")):
        r = GOALS.get(part, {})
        if r.get(base) and r.get(name):
            add(goal, median([v[2] for v in r[name]]) / median([v[2] for v in r[base]]), 1.1, higher=False)
    idle = GOALS.get("idle", {}).get(("rttyd defaults", max(a.idle_counts)))
    if idle:
        rss, cpu, up = idle
        count = max(a.idle_counts)
        add(f"{count} idle consoles: RSS < 32 MiB", rss, 32, higher=False, unit=" MiB")
        add(f"{count} idle consoles: 0 CPU s over {a.idle_seconds:g} s (< 0.02)", cpu, 0.02, higher=False,
            unit=" s")
        add(f"{count} idle consoles: start < 1 s", up, 1, higher=False, unit=" s")
    return out


def bench_goals(a, table):
    table.section("Goals (issue 15), from this run's figures")
    table.header("goal", "figure", "", first=64)
    for goal, figure, verdict in goal_rows(a):
        table.row(goal, figure, verdict)


class Table:
    def __init__(self):
        self.lines = []

    def section(self, title):
        self.lines += ["", "## " + title]

    def header(self, *cells, first=28):
        self.widths = [max(12, len(str(c)) + 2) for c in cells]
        self.widths[0] = first
        self.row(*cells)

    def row(self, *cells):
        self.lines.append("".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, self.widths))))


def commit():
    """The commit the tree is at, "+changes" if it has uncommitted ones (rttyd built from it)."""
    def git(*argv):
        return subprocess.run(["git", "-C", ROOT] + list(argv), capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "Sources", "Package.swift")
    return f"commit {head or '?'}{'+changes' if dirty else ''}"


# The parts, in the order of the table; --only picks some. A new comparison adds its
# function here (see throughput_compare and rttyd_factory).
PARTS = {"throughput": bench_throughput, "fanout": bench_fanout, "memory": bench_memory, "rtt": bench_rtt,
         "ssh": bench_ssh, "idle": bench_idle, "logging": bench_logging, "metrics": bench_metrics,
         "triggers": bench_triggers}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, 1 run: a smoke test of the benchmark")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--clients", type=int, default=50, help="the many-clients rows (recording on/off, peers)")
    ap.add_argument("--rtt", type=int, default=5000)
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--idle-counts", default="1,100,1000")
    ap.add_argument("--fanout", default="1,5,50", help="client counts of the fan-out rows")
    ap.add_argument("--memory-clients", type=int, default=64, help="clients attached for the memory rows")
    ap.add_argument("--memory-mib", type=int, default=64, help="MiB of output before the memory is read")
    ap.add_argument("--only", default=",".join(PARTS))
    ap.add_argument("--servers", default="socat,relay,rttyd,conserver,ser2net", help="which servers to run")
    ap.add_argument("--rttyd", default=os.path.join(ROOT, ".build/release/rttyd"))
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.txt"))
    a = ap.parse_args()
    if a.quick:
        a.runs, a.mib, a.clients, a.rtt, a.idle_seconds, a.idle_counts = 1, 4, 5, 200, 2, "1,20"
        a.fanout, a.memory_clients, a.memory_mib = "1,5", 8, 4
    a.idle_counts = [int(x) for x in a.idle_counts.split(",")]
    a.fanout = [int(x) for x in a.fanout.split(",")]
    servers.WANTED = set(a.servers.split(","))
    servers.build_load()
    servers.require_tools(ci=os.environ.get("CI") == "true")
    table = Table()
    head = [f"# rtty benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
            f"{servers.versions()}; {servers.runtime(a.rttyd)}, {commit()}", f"# {' '.join(sys.argv)}"]
    try:
        for part in a.only.split(","):
            PARTS[part](a, table)
        bench_goals(a, table)
    except BaseException as error:
        head.append(f"# INCOMPLETE: stopped by {error!r}")
        raise
    finally:
        servers.write_report(a.out, "\n".join(head + table.lines) + "\n")


if __name__ == "__main__":
    main()
