#!/usr/bin/env python3
"""rtty's fleet at scale (issue 16 part 4): HOSTS console hosts on this machine, each its own
sshd (own port, host key, mount namespace with its own /etc/rtty and PAM service) and its own
rttyd with CONSOLES consoles, one user whose login shell is a setgid rtty-shell, a fleet
file naming them. Figures (median of RUNS):

  listing   `rtty --fleet --json`: cold (no master connections), warm (ControlMaster and
            ControlPersist from the run before), and with sharing off (ControlMaster=no in
            the fleet file), against one plain `ssh HOST list --json` to one host.
  attach    time from start to the first echoed byte of a console, through `rtty
            HOST:NAME` and `rtty NAME` (a warm listing first), against plain `ssh -T HOST
            NAME` (a full login) and ssh over a warm master.

Needs root (users, sshd). Usage: sudo bench/fleet.py [--hosts 10] [--consoles 100]
[--runs 5] [--build .build/release]; writes bench/results/fleet.txt.
"""
import argparse, grp, json, os, pty, shutil, signal, subprocess, sys, tempfile, time, tty

import servers
from servers import Guest, PAM_PERMIT, free_port, can_connect, wait_for, stop

USER, GROUP = "fbench", "fbenchsock"


class Host:
    """One console host: rttyd with `consoles` consoles (the first an echo guest, the rest
    idle ptys) named h<N>-c<i>, and an sshd whose rtty-shell reads this host's files."""

    def __init__(self, n, consoles, build, shell, key, keys):
        self.n, self.name = n, f"h{n}"
        self.work = tempfile.mkdtemp(prefix=f"fleet-{self.name}-", dir=servers.WORK)
        self.etc = tempfile.mkdtemp(prefix=f"rtty-fleet-etc-{self.name}-", dir="/var/lib")
        for d in (self.work, self.etc):
            os.chmod(d, 0o755)
        w = self.work
        self.echo = Guest("echo", "pty")
        self.idle = []
        for _ in range(consoles - 1):
            master, slave = pty.openpty()
            tty.setraw(slave)
            self.idle.append((master, slave))
        devices = [self.echo.device] + [os.ttyname(s) for _, s in self.idle]
        body = "".join(f'[console.{self.console(i)}]\ndevice = "{d}"\n' for i, d in enumerate(devices))
        with open(self.etc + "/rtty.conf", "w") as f:
            f.write(f'[paths]\nsocket_dir = "{w}/run"\ncontrol = "{w}/run/control"\nlog_dir = "{w}/log"\n'
                    f'audit_log = "{w}/log/audit.jsonl"\nsession_dir = "{w}/log/sessions"\naccess = "{self.etc}/access"\n'
                    f'pid_file = "{w}/run/rttyd.pid"\n[defaults]\ngroup = "{GROUP}"\nlog = false\ntranscript = false\n{body}')
        with open(self.etc + "/access", "w") as f:
            f.write(f"{USER} * rw\n")
        self.rttyd = subprocess.Popen([os.path.join(build, "rttyd"), "--config", self.etc + "/rtty.conf"],
                                      stderr=open(w + "/rttyd.log", "w"), start_new_session=True)
        wait_for(lambda: os.path.exists(f"{w}/run/{self.console(consoles - 1)}"), f"rttyd of {self.name}", timeout=60)
        os.chmod(w, 0o755)
        os.makedirs(w + "/pam")
        with open(w + "/pam/rtty", "w") as f:
            f.write(f"auth required {PAM_PERMIT}\naccount required {PAM_PERMIT}\n")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", w + "/host_key"], check=True)
        self.port = free_port()
        with open(w + "/sshd_config", "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {w}/host_key\nPidFile {w}/sshd.pid\n"
                    f"AuthorizedKeysFile {keys}/%u\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
                    f"KbdInteractiveAuthentication no\nMaxStartups 100\nMaxSessions 100\n"
                    f"Match User {USER}\n  DisableForwarding yes\n  PermitTTY yes\n  ForceCommand {shell}\n")
        binds = 'mount --bind "$1" /etc/rtty && mount --bind "$2" /etc/pam.d && shift 2 && exec "$@"'
        self.sshd = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", binds, "sh", self.etc,
                                      w + "/pam", "/usr/sbin/sshd", "-D", "-e", "-f", w + "/sshd_config"],
                                     stderr=open(w + "/sshd.log", "w"), start_new_session=True)
        wait_for(lambda: can_connect(self.port), f"sshd of {self.name}")

    def console(self, i):
        return f"{self.name}-c{i}"

    def close(self):
        for p in (self.sshd, self.rttyd):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            stop(p)
        self.echo.__exit__(None, None, None)
        for master, slave in self.idle:
            os.close(master)
            os.close(slave)
        shutil.rmtree(self.etc, ignore_errors=True)


def ssh_options(key):
    return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "IdentitiesOnly=yes", "-o", f"IdentityFile={key}", "-o", "BatchMode=yes"]


def timed(argv, env):
    start = time.monotonic()
    run = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    return time.monotonic() - start, run


def until_echo(argv, env):
    """Seconds from start until the console echoes what was typed."""
    start = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"ping-fleet\n")
    p.stdin.flush()
    seen = b""
    os.set_blocking(p.stdout.fileno(), True)
    while b"ping-fleet" not in seen:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            raise SystemExit(f"{argv[:3]}... ended before the echo: {p.stderr.read().decode()[-400:]}")
        seen += chunk
    seconds = time.monotonic() - start
    p.kill()
    p.wait()
    return seconds


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def close_masters(control):
    for socket in os.listdir(control) if os.path.isdir(control) else []:
        subprocess.run(["ssh", "-o", f"ControlPath={control}/{socket}", "-O", "exit", "fleet"], capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--consoles", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(servers.ROOT, ".build/release"))
    ap.add_argument("--out", default=os.path.join(servers.HERE, "results", "fleet.txt"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench/fleet.py needs root (users, sshd)")
    servers.build_load()
    os.makedirs("/run/sshd", exist_ok=True)
    os.makedirs("/etc/rtty", mode=0o755, exist_ok=True)
    base = tempfile.mkdtemp(prefix="rfb-", dir="/tmp")  # short: ssh's control sockets
    os.chmod(servers.WORK, 0o755)
    subprocess.run(["groupadd", "-f", GROUP], check=True)
    shell = os.path.join(servers.WORK, "rtty-shell")
    shutil.copy(os.path.join(a.build, "rtty-shell"), shell)
    shutil.chown(shell, group=GROUP)
    os.chmod(shell, 0o2755)
    subprocess.run(["userdel", "-f", USER], capture_output=True)
    subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", shell, "-p", "*", USER], check=True)
    key = os.path.join(base, "key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    keys = os.path.join(servers.WORK, "keys")
    os.makedirs(keys)
    shutil.copy(key + ".pub", os.path.join(keys, USER))
    hosts, lines = [], []
    control = os.path.join(base, "run", "rtty-ssh")
    env = {"PATH": "/usr/bin:/bin", "HOME": base, "XDG_RUNTIME_DIR": os.path.join(base, "run")}
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    rtty = os.path.join(a.build, "rtty")
    try:
        started = time.monotonic()
        for n in range(1, a.hosts + 1):
            hosts.append(Host(n, a.consoles, a.build, shell, key, keys))
        print(f"{a.hosts} hosts x {a.consoles} consoles up in {time.monotonic() - started:.1f} s", flush=True)
        head = "timeout 10\n" + "".join(f"option {o}\n" for o in ssh_options(key)[1::2])
        fleet = os.path.join(base, "fleet")
        unshared = os.path.join(base, "fleet-unshared")
        with open(fleet, "w") as f:
            f.write(head + "".join(f"host {h.name} {USER}@127.0.0.1 Port={h.port}\n" for h in hosts))
        with open(unshared, "w") as f:
            f.write("option ControlMaster=no ControlPath=none\n" + head + "".join(f"host {h.name} {USER}@127.0.0.1 Port={h.port}\n" for h in hosts))
        for path in (fleet, unshared):
            os.chmod(path, 0o600)

        def listing(path):
            seconds, run = timed([rtty, "--fleet-file", path, "--json"], env)
            rows = [json.loads(line) for line in run.stdout.splitlines()]
            count = sum(len(r.get("consoles") or []) for r in rows)
            if run.returncode != 0 or count != a.hosts * a.consoles:
                raise SystemExit(f"listing: status {run.returncode}, {count} consoles: {run.stderr[-600:]} {run.stdout[-600:]}")
            return seconds

        far = hosts[-1]
        plain = ["ssh"] + ssh_options(key) + ["-p", str(far.port), "-T", "-e", "none", f"{USER}@127.0.0.1"]
        shared = plain[:1] + ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}/%C", "-o", "ControlPersist=600"] + plain[1:]
        results = {k: [] for k in ("one host", "cold", "warm", "unshared", "ssh", "ssh warm", "host:name", "name")}
        for run in range(a.runs):
            close_masters(control)
            seconds, one = timed(plain + ["list", "--json"], env)
            if one.returncode != 0:
                raise SystemExit(f"ssh list --json: {one.stderr}")
            results["one host"].append(seconds)
            results["cold"].append(listing(fleet))
            results["warm"].append(listing(fleet))
            results["unshared"].append(listing(unshared))
            name = far.console(0)
            results["ssh"].append(until_echo(plain + [name], env))
            results["ssh warm"].append(until_echo(shared + [name], env))
            results["host:name"].append(until_echo([rtty, "--fleet-file", fleet, f"{far.name}:{name}"], env))
            results["name"].append(until_echo([rtty, "--fleet-file", fleet, name], env))
            print(f"  run {run + 1}: " + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in results.items()), flush=True)
        m = {k: median(v) * 1000 for k, v in results.items()}
        lines = [f"# rtty fleet benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
                 f"{a.hosts} hosts x {a.consoles} consoles, median of {a.runs}", f"# {' '.join(sys.argv)}", "",
                 f"## Listing {a.hosts * a.consoles} consoles on {a.hosts} hosts (ms)",
                 f"{'what':44}{'ms':>8}{'x one host':>12}"]
        for key_, label in (("one host", "ssh HOST list --json, one host, full login"),
                            ("cold", "rtty --fleet, cold (logins in parallel)"),
                            ("warm", "rtty --fleet, warm (ControlMaster)"),
                            ("unshared", "rtty --fleet, ControlMaster=no")):
            lines.append(f"{label:44}{m[key_]:>8.0f}{m[key_] / m['one host']:>12.2f}")
        lines += ["", "## Attach: start to first echoed byte (ms)", f"{'what':44}{'ms':>8}{'x ssh -T':>12}"]
        for key_, label in (("ssh", "ssh -T HOST NAME (full login)"), ("ssh warm", "ssh -T HOST NAME over a warm master"),
                            ("host:name", "rtty HOST:NAME (warm master)"), ("name", "rtty NAME (warm listing, then attach)")):
            lines.append(f"{label:44}{m[key_]:>8.0f}{m[key_] / m['ssh']:>12.2f}")
    finally:
        close_masters(control)
        for h in hosts:
            h.close()
        subprocess.run(["userdel", "-f", USER], capture_output=True)
        subprocess.run(["groupdel", GROUP], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    servers.write_report(a.out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
