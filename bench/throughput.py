#!/usr/bin/env python3
"""Throughput: bytes from a pty guest through rttyd to 1 and N clients, against socat
relaying the same kind of pty to a Unix socket, in the same run.

Usage: bench/throughput.py [--mib 64] [--clients 20] [--runs 3] [--rttyd PATH]
Prints a table (medians) and writes it to bench/results/throughput.txt.
"""
import argparse, grp, os, pty, shutil, signal, statistics, subprocess, sys, tempfile, time, tty

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def guest_write(master, total):
    chunk = bytes(range(256)) * 256  # 64 KiB
    sent = 0
    while sent < total:
        sent += os.write(master, chunk[: min(len(chunk), total - sent)])


def wait_for(path, timeout=10):
    end = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > end:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.02)


def start_readers(sock, total, n, mode):
    readers = []
    for _ in range(n):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "reader.py"), sock, str(total), mode],
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        readers.append(p)
    return readers


def finish(readers, started, timeout=300):
    times = []
    for p in readers:
        out, _ = p.communicate(timeout=timeout)
        if p.returncode != 0:
            raise SystemExit("a reader failed")
    return time.monotonic() - started


def run_rttyd(rttyd, total, clients):
    work = tempfile.mkdtemp(prefix="rtty-bench-")
    master, slave = pty.openpty()
    tty.setraw(slave)
    slave_path = os.ttyname(slave)
    conf = os.path.join(work, "rtty.conf")
    with open(conf, "w") as f:
        f.write(f"""[paths]
socket_dir = "{work}/run"
control = "{work}/run/control"
log_dir = "{work}/log"
audit_log = "{work}/log/audit.jsonl"
session_dir = "{work}/log/sessions"
access = "{work}/access"
pid_file = "{work}/run/rttyd.pid"
[defaults]
log = false
group = "{grp.getgrgid(os.getegid()).gr_name}"
client_queue_bytes = 268435456
[console.bench]
device = "{slave_path}"
""")
    d = subprocess.Popen([rttyd, "--config", conf, "--log-level", "warning"])
    try:
        sock = f"{work}/run/bench"
        wait_for(sock)
        time.sleep(0.3)
        readers = start_readers(sock, total, clients, "rtty")
        time.sleep(0.2)
        started = time.monotonic()
        guest_write(master, total)
        return finish(readers, started)
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait()
        os.close(master)
        os.close(slave)
        shutil.rmtree(work, ignore_errors=True)


def run_socat(total):
    work = tempfile.mkdtemp(prefix="rtty-bench-")
    master, slave = pty.openpty()
    tty.setraw(slave)
    slave_path = os.ttyname(slave)
    sock = os.path.join(work, "sock")
    s = subprocess.Popen(["socat", "-b", "65536", f"UNIX-LISTEN:{sock}", f"OPEN:{slave_path},rawer"],
                         stderr=subprocess.DEVNULL)
    try:
        wait_for(sock)
        readers = start_readers(sock, total, 1, "raw")
        time.sleep(0.2)
        started = time.monotonic()
        guest_write(master, total)
        return finish(readers, started)
    finally:
        s.kill()
        s.wait()
        os.close(master)
        os.close(slave)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rttyd", default=os.path.join(ROOT, ".build/release/rttyd"))
    a = ap.parse_args()
    total = a.mib << 20
    rows = {"socat, 1 client": [], "rttyd, 1 client": [], f"rttyd, {a.clients} clients": []}
    for _ in range(a.runs):
        rows["socat, 1 client"].append(total / run_socat(total))
        rows["rttyd, 1 client"].append(total / run_rttyd(a.rttyd, total, 1))
        rows[f"rttyd, {a.clients} clients"].append(total / run_rttyd(a.rttyd, total, a.clients))
    base = statistics.median(rows["socat, 1 client"])
    lines = [f"# throughput: {a.mib} MiB from a pty guest, median of {a.runs} runs, {os.cpu_count()} cores",
             f"{'path':<24} {'MB/s per client':>16} {'MB/s all clients':>17} {'ratio to socat':>15}"]
    for name, values in rows.items():
        m = statistics.median(values)
        n = a.clients if name.endswith("clients") else 1
        lines.append(f"{name:<24} {m / 1e6:>16.1f} {m * n / 1e6:>17.1f} {m / base:>15.2f}")
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "throughput.txt"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
