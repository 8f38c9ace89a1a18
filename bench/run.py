#!/usr/bin/env python3
"""rtty against socat, conserver and ser2net, on the same guests, in one run.

Usage: bench/run.py [--quick] [--runs N] [--only throughput,rtt,ssh,idle,logging,triggers]
                    [--rttyd PATH] [--out FILE]

Every guest and client is bench/load.c (compiled here), so each server is driven by the
same code. Every figure is the median of --runs runs; peers are shown as a ratio to socat
measured in the same run. The table is printed and written to bench/results/latest.txt.
See docs/BENCHMARKS.md for what each row means.
"""
import argparse, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import servers  # noqa: E402
from servers import Guest, Rttyd, Socat, Conserver, Ser2net, LOAD, tree_cpu_seconds, tree_rss_kib  # noqa: E402


def median(values):
    return statistics.median(values) if values else float("nan")


# ---- throughput ----

RUN_TIMEOUT = 90  # seconds: a server slower than nbytes/RUN_TIMEOUT is shown as such


def throughput_once(server_factory, guest_kind, nbytes, clients):
    """Seconds from the guest's first byte until every client holds all `nbytes`; None if
    a client got wrong or missing bytes, inf if the run passed RUN_TIMEOUT."""
    with Guest("source", guest_kind) as guest, server_factory(guest) as server:
        endpoints, framing, helpers = server.readers(clients)
        reader = subprocess.Popen([LOAD, "read", str(nbytes), framing] + endpoints, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, pass_fds=server.pass_fds(endpoints))
        try:
            servers.expect_line(reader, "ready", 30)
            server.settle(clients)
            started = time.monotonic()
            guest.send(nbytes)
            if not servers.said(reader, "done", RUN_TIMEOUT):
                # Killed at the deadline, or a client lost or got wrong bytes (load said where).
                return float("inf") if time.monotonic() - started >= RUN_TIMEOUT else None
            seconds = time.monotonic() - started
            if getattr(server, "recorded_bytes", lambda: 0)():
                print(f"  recording written: {server.recorded_bytes() / nbytes:.2f}x the output", flush=True)
            return seconds
        finally:
            servers.stop(reader)
            for helper in helpers:
                servers.stop(helper)


def bench_throughput(a, table):
    nbytes = a.mib << 20
    cases = [
        ("socat", "pty", 1, lambda g: Socat(g)),
        ("rttyd", "pty", 1, lambda g: Rttyd(a.rttyd, [g])),
        # What users run: the shipped defaults log every console and record every
        # read-write session (log = true, transcript = true).
        ("rttyd defaults", "pty", 1, lambda g: Rttyd(a.rttyd, [g], log=True, transcript=True)),
        ("rttyd tcp raw", "pty", 1, lambda g: Rttyd(a.rttyd, [g], tcp=True)),
        ("conserver", "pty", 1, lambda g: Conserver([g])),
        ("ser2net", "pty", 1, lambda g: Ser2net([g])),
        ("rttyd", "pty", a.clients, lambda g: Rttyd(a.rttyd, [g])),
        ("rttyd defaults", "pty", a.clients, lambda g: Rttyd(a.rttyd, [g], log=True, transcript=True)),
        # The defaults with recording off: what recording costs N read-write clients.
        ("rttyd log only", "pty", a.clients, lambda g: Rttyd(a.rttyd, [g], log=True)),
        ("conserver", "pty", a.clients, lambda g: Conserver([g])),
        ("ser2net", "pty", a.clients, lambda g: Ser2net([g])),
        ("socat", "unix", 1, lambda g: Socat(g)),
        ("rttyd", "unix", 1, lambda g: Rttyd(a.rttyd, [g])),
        ("rttyd", "unix", a.clients, lambda g: Rttyd(a.rttyd, [g])),
    ]
    results = {}
    for _ in range(a.runs):
        for name, kind, clients, factory in cases:
            if not servers.available(name):
                continue
            seconds = throughput_once(factory, kind, nbytes, clients)
            results.setdefault((name, kind, clients), []).append(nbytes / seconds if seconds else None)
            print(f"  throughput {name} {kind} x{clients}: "
                  f"{f'{nbytes / seconds / 1e6:.1f} MB/s' if seconds else 'bytes lost'}", flush=True)
            if seconds == float("inf"):
                print(f"  (over {RUN_TIMEOUT} s: not run again)", flush=True)
                cases = [c for c in cases if c[:3] != (name, kind, clients)]
    table.section(f"Throughput: {a.mib} MiB of guest output, every byte checked at every client "
                  f"(MB/s per client, median of {a.runs})")
    table.header("server", "guest", "clients", "MB/s", "x socat")
    for kind in ("pty", "unix"):
        base = median(results.get(("socat", kind, 1), []))
        for (name, k, clients), values in results.items():
            if k == kind and None in values:
                table.row(name, kind, clients, "lost bytes", "-")
            elif k == kind and 0.0 in values:
                table.row(name, kind, clients, f"<{nbytes / RUN_TIMEOUT / 1e6:.1f}", "-")
            elif k == kind:
                m = median(values)
                table.row(name, kind, clients, f"{m / 1e6:.1f}", f"{m / base:.2f}")


# ---- keystroke round trip ----

def rtt_once(server_factory, count):
    with Guest("echo", "pty") as guest, server_factory(guest) as server:
        argv = server.rtt_argv()
        run = subprocess.run([LOAD, "rtt", str(count)] + argv, stdout=subprocess.PIPE, text=True, timeout=300,
                             pass_fds=server.pass_fds(argv))
        if run.returncode != 0:
            raise SystemExit(f"rtt through {server_factory} failed")
        return [float(x) for x in run.stdout.split()]


def bench_rtt(a, table):
    cases = [
        ("socat", lambda g: Socat(g)),
        ("rttyd", lambda g: Rttyd(a.rttyd, [g])),
        ("rttyd tcp raw", lambda g: Rttyd(a.rttyd, [g], tcp=True)),
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


# ---- scale at rest ----

def bench_idle(a, table):
    table.section(f"At rest: idle consoles (pty guests), RSS of all the server's processes, "
                  f"CPU seconds over {a.idle_seconds} s; rttyd start-up and reload")
    table.header("server", "consoles", "RSS MiB", "CPU s", "start s", "reload s")
    for count in a.idle_counts:
        guests = servers.IdlePtys(count)
        try:
            for name, factory in (("rttyd", lambda: Rttyd(a.rttyd, guests.paths, log=True)),
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
                    print(f"  idle {name} x{count}: {rss:.1f} MiB, {cpu:.2f} CPU s, start {up:.2f} s", flush=True)
        finally:
            guests.close()


# ---- logging cost ----

def bench_logging(a, table):
    bench_cases(a, table, "Logging cost", [("log off", dict(log=False)), ("log on, no timestamps", dict(log=True, timestamps=False)),
                                           ("log on, timestamps", dict(log=True, timestamps=True))])


# ---- metrics cost ----

def bench_metrics(a, table):
    """The Prometheus counters on the output path: off (no endpoint, no counters) against on."""
    bench_cases(a, table, "Metrics cost", [("metrics off", dict(metrics=False)), ("metrics on", dict(metrics=True))])


def bench_cases(a, table, title, cases):
    """rttyd with each case's options, 1 client, pty and unix guests; ratios against the first case."""
    nbytes = a.mib << 20
    results = {}
    for _ in range(a.runs):
        for name, options in cases:
            for kind, suffix in (("pty", ""), ("unix", " (unix guest)")):
                seconds = throughput_once(lambda g: Rttyd(a.rttyd, [g], **options), kind, nbytes, 1)
                if seconds is None:
                    raise SystemExit(f"rttyd lost bytes with {name}")
                results.setdefault(name + suffix, []).append(nbytes / seconds)
    table.section(f"{title}: rttyd, 1 client, {a.mib} MiB (MB/s, median of {a.runs})")
    table.header("rttyd", "MB/s", "x " + cases[0][0])
    for guest in ("", " (unix guest)"):
        base = median(results[cases[0][0] + guest])
        for name, _ in cases:
            m = median(results[name + guest])
            table.row(name + guest, f"{m / 1e6:.1f}", f"{m / base:.2f}")


# ---- trigger cost ----

class CPUCountedRttyd(Rttyd):
    """rttyd whose CPU seconds (all its threads) are read just before it is stopped: on a
    shared machine they vary less than the wall-clock rate."""
    seconds = []

    def __exit__(self, *exc):
        CPUCountedRttyd.seconds.append(tree_cpu_seconds(self.pid))
        return super().__exit__(*exc)


def bench_triggers(a, table):
    """The shipped crash set (packaging/etc/triggers.conf, ten triggers) against none, log
    off, one client: matching runs beside the relay, on the trigger thread."""
    nbytes = a.mib << 20
    with open(os.path.join(ROOT, "packaging/etc/triggers.conf")) as f:
        shipped = f.read()
    cases = [("no triggers", ""), ("10 shipped triggers", shipped)]
    rates, cpu = {}, {}
    for _ in range(a.runs):
        for name, extra in cases:
            for kind in ("pty", "unix"):
                seconds = throughput_once(lambda g: CPUCountedRttyd(a.rttyd, [g], extra=extra), kind, nbytes, 1)
                if seconds is None:
                    raise SystemExit(f"rttyd lost bytes with {name}")
                rates.setdefault((name, kind), []).append(nbytes / seconds)
                cpu.setdefault((name, kind), []).append(CPUCountedRttyd.seconds[-1])
    table.section(f"Trigger cost: rttyd, 1 client, log off, {a.mib} MiB (MB/s and rttyd CPU s, median of {a.runs})")
    table.header("rttyd", "guest", "MB/s", "x none", "CPU s", "x none")
    for kind in ("pty", "unix"):
        base, base_cpu = median(rates[("no triggers", kind)]), median(cpu[("no triggers", kind)])
        for name, _ in cases:
            m, c = median(rates[(name, kind)]), median(cpu[(name, kind)])
            table.row(name, kind, f"{m / 1e6:.1f}", f"{m / base:.2f}", f"{c:.2f}", f"{c / base_cpu:.2f}")


class Table:
    def __init__(self):
        self.lines = []

    def section(self, title):
        self.lines += ["", "## " + title]

    def header(self, *cells):
        self.widths = [max(12, len(str(c)) + 2) for c in cells]
        self.widths[0] = 28
        self.row(*cells)

    def row(self, *cells):
        self.lines.append("".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                  for i, (c, w) in enumerate(zip(cells, self.widths))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, 1 run: a smoke test of the benchmark")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rtt", type=int, default=5000)
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--idle-counts", default="1,100,1000")
    ap.add_argument("--only", default="throughput,rtt,ssh,idle,logging,metrics,triggers")
    ap.add_argument("--servers", default="socat,rttyd,conserver,ser2net", help="which servers to run")
    ap.add_argument("--rttyd", default=os.path.join(ROOT, ".build/release/rttyd"))
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.txt"))
    a = ap.parse_args()
    if a.quick:
        a.runs, a.mib, a.clients, a.rtt, a.idle_seconds, a.idle_counts = 1, 4, 5, 200, 2, "1,20"
    a.idle_counts = [int(x) for x in a.idle_counts.split(",")]
    servers.WANTED = set(a.servers.split(","))
    servers.build_load()
    servers.require_tools(ci=os.environ.get("CI") == "true")
    table = Table()
    head = [f"# rtty benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
            f"{servers.versions()}", f"# {' '.join(sys.argv)}"]
    try:
        for part in a.only.split(","):
            {"throughput": bench_throughput, "rtt": bench_rtt, "ssh": bench_ssh, "idle": bench_idle,
             "logging": bench_logging, "metrics": bench_metrics, "triggers": bench_triggers}[part](a, table)
    except BaseException as error:
        head.append(f"# INCOMPLETE: stopped by {error!r}")
        raise
    finally:
        text = "\n".join(head + table.lines) + "\n"
        print(text)
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
