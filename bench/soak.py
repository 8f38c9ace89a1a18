#!/usr/bin/env python3
"""Soak test: many consoles producing output, clients coming and going at random, setting
changes and BREAKs, for a bounded time. Afterwards every console log must hold exactly
the bytes its guest wrote (sha256), the audit log must be well-formed with every session
closed, and the daemon's RSS and descriptor count must be flat.

    python3 bench/soak.py [--seconds 1800] [--consoles 200] [--rttyd .build/release/rttyd]

Exit status 0 when every check holds; the figures are printed (and used in
docs/RELIABILITY.md).
"""
import argparse
import grp
import re
import hashlib
import json
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time


def frame(kind, payload=b""):
    return struct.pack(">HH", kind, len(payload)) + payload


def proc_figures(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return fds, rss, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--rttyd", default=".build/release/rttyd")
    parser.add_argument("--rttyctl", default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rttyctl = args.rttyctl or os.path.join(os.path.dirname(args.rttyd), "rttyctl")
    random.seed(args.seed)
    root = tempfile.mkdtemp(prefix="rtty-soak-")
    run, logs = os.path.join(root, "run"), os.path.join(root, "log")

    # One pty pair per console: the daemon opens the slave, this script is the guest.
    masters, names, written, slaves = {}, [], {}, []
    body = []
    for i in range(args.consoles):
        master, slave = os.openpty()
        os.set_blocking(master, False)
        name = f"c{i:04d}"
        names.append(name)
        masters[name] = master
        written[name] = hashlib.sha256()
        written[name + ".bytes"] = 0
        body.append(f'[console.{name}]\ndevice = "{os.ttyname(slave)}"\nbaud = 115200\n')
        slaves.append(slave)  # held open so the pty stays usable until rttyd opens it
    config = os.path.join(root, "rtty.conf")
    with open(config, "w") as f:
        f.write(f'[paths]\nsocket_dir = "{run}"\ncontrol = "{run}/control"\nlog_dir = "{logs}"\n'
                f'audit_log = "{logs}/audit.jsonl"\nsession_dir = "{logs}/sessions"\naccess = "{root}/access"\n'
                f'pid_file = "{run}/rttyd.pid"\n[defaults]\ngroup = "{grp.getgrgid(os.getgid()).gr_name}"\n'
                f'timestamps = false\ntranscript = true\nreplay_bytes = 4096\n\n' + "\n".join(body))
    daemon = subprocess.Popen([args.rttyd, "--config", config, "--log-level", "warning"], stderr=open(os.path.join(root, "rttyd.err"), "w"))
    deadline = time.time() + 30
    while not all(os.path.exists(os.path.join(run, n)) for n in names):
        if time.time() > deadline or daemon.poll() is not None:
            sys.exit("soak: rttyd did not start: " + open(os.path.join(root, "rttyd.err")).read()[-2000:])
        time.sleep(0.1)
    time.sleep(1)
    start_fds, start_rss, start_cpu = proc_figures(daemon.pid)

    clients = {}  # socket -> (name, leave_at)
    stats = {"attaches": 0, "settings": 0, "breaks": 0, "lines": 0, "client_bytes": 0}
    samples = []
    end = time.time() + args.seconds
    next_sample = time.time() + 5
    line_no = {n: 0 for n in names}
    while time.time() < end:
        # Guests print: a burst of lines on a few random consoles.
        for name in random.sample(names, min(20, len(names))):
            line = f"{name} line {line_no[name]} {'x' * random.randint(0, 60)}\r\n".encode()
            try:
                n = os.write(masters[name], line)
            except BlockingIOError:
                n = 0
            if n:
                written[name].update(line[:n])
                if os.environ.get("SOAK_KEEP"): open(os.path.join(root, name + ".guest"), "ab").write(line[:n])
                written[name + ".bytes"] += n
                line_no[name] += 1
                stats["lines"] += 1
                if n < len(line):  # the rest, so the stream stays whole
                    rest = line[n:]
                    while rest:
                        try:
                            m = os.write(masters[name], rest)
                            written[name].update(rest[:m])
                            if os.environ.get("SOAK_KEEP"): open(os.path.join(root, name + ".guest"), "ab").write(rest[:m])
                            written[name + ".bytes"] += m
                            rest = rest[m:]
                        except BlockingIOError:
                            time.sleep(0.001)
        # Clients come and go.
        if len(clients) < 40 and random.random() < 0.5:
            name = random.choice(names)
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(os.path.join(run, name))
                s.sendall(frame(6, f"soak{stats['attaches']}@pts/{stats['attaches'] % 50}".encode() + b"\0"))
                s.setblocking(False)
                clients[s] = (name, time.time() + random.uniform(0.2, 5))
                stats["attaches"] += 1
            except OSError:
                s.close()
        for s, (name, leave_at) in list(clients.items()):
            try:
                data = s.recv(65536)
                stats["client_bytes"] += len(data)
            except BlockingIOError:
                pass
            except OSError:
                data = b""
            if time.time() > leave_at:
                s.close()
                del clients[s]
        # Now and then: a setting change or a BREAK through rttyctl.
        if random.random() < float(os.environ.get("SOAK_CONTROL_RATE", "0.02")):
            name = random.choice(names)
            if random.random() < float(os.environ.get("SOAK_SETTINGS_SHARE", "0.5")):
                subprocess.run([rttyctl, "set", "--control", f"{run}/control", name, f"baud={random.choice([9600, 19200, 115200])}"], capture_output=True)
                stats["settings"] += 1
            else:
                subprocess.run([rttyctl, "break", "--control", f"{run}/control", name], capture_output=True)
                stats["breaks"] += 1
        # Drain the guests' input side (BREAKs and nothing else arrive there).
        for name in random.sample(names, 10):
            try:
                os.read(masters[name], 65536)
            except (BlockingIOError, OSError):
                pass
        if time.time() >= next_sample:
            samples.append(proc_figures(daemon.pid))
            next_sample = time.time() + 5
        time.sleep(0.01)

    for s in list(clients):
        s.close()
    time.sleep(2)
    mid_fds, mid_rss, mid_cpu = proc_figures(daemon.pid)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)

    failures = []
    # Console logs: the bytes the guests wrote, in order, with markers for BREAKs and setting
    # changes (lines that start "[rtty"), which are taken out before comparing.
    for name in names:
        path = os.path.join(logs, name + ".log")
        data = open(path, "rb").read() if os.path.exists(path) else b""
        # Markers are "[rtty: ...]" on a line of their own (a newline is added before one in
        # mid-line). The guests end every line with CR LF and never write a lone LF, so
        # after the marker texts go, every LF not preceded by CR is a marker's.
        kept = re.sub(rb"\[rtty: [^\n]*\]", b"", data)
        kept = re.sub(rb"(?<!\r)\n", b"", kept)
        if hashlib.sha256(kept).hexdigest() != written[name].hexdigest():
            failures.append(f"{name}: log has {len(kept)} bytes, guest wrote {written[name + '.bytes']}")
    # Audit: every line JSON, every session started is ended.
    started, ended, lines = set(), set(), 0
    for line in open(os.path.join(logs, "audit.jsonl")):
        lines += 1
        try:
            record = json.loads(line)
        except ValueError:
            failures.append(f"audit line {lines} is not JSON: {line[:100]!r}")
            continue
        if record.get("event") == "session-start":
            started.add(record["session"])
        if record.get("event") == "session-end":
            ended.add(record["session"])
    if started - ended:
        failures.append(f"{len(started - ended)} sessions started and never ended in the audit log")
    rss_growth = mid_rss - start_rss
    if mid_fds > start_fds + 2:
        failures.append(f"descriptors grew from {start_fds} to {mid_fds}")
    total_bytes = sum(written[n + ".bytes"] for n in names)
    print("state in", root)
    print(json.dumps({
        "seconds": args.seconds, "consoles": args.consoles, "guest_lines": stats["lines"], "guest_bytes": total_bytes,
        "client_attaches": stats["attaches"], "client_bytes": stats["client_bytes"], "setting_changes": stats["settings"],
        "breaks": stats["breaks"], "audit_lines": lines, "sessions": len(started),
        "fds_start_end": [start_fds, mid_fds], "rss_kib_start_end": [start_rss, mid_rss], "cpu_seconds": round(mid_cpu - start_cpu, 2),
        "rss_kib_samples_min_max": [min(s[1] for s in samples), max(s[1] for s in samples)] if samples else None,
        "logs_checked": len(names), "failures": failures,
    }, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
