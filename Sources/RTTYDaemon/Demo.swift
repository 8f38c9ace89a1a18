import RTTYCore
import RTTYSystem

/// `rttyd --demo`: a daemon in a local state directory with two consoles that need no
/// hardware: a simulated guest (boot banner, login prompt) and a shell.
public enum Demo {
    /// `group` is the socket group: the demo runs as whoever starts it, so it uses that
    /// user's own group rather than `rtty`, which may not exist.
    public static func config(stateDir: String, executable: String, group: String) -> String {
        """
        # rtty demo configuration, written by `rttyd --demo`.
        [paths]
        socket_dir = "\(stateDir)/run"
        control = "\(stateDir)/run/control"
        log_dir = "\(stateDir)/log"
        audit_log = "\(stateDir)/log/audit.jsonl"
        session_dir = "\(stateDir)/log/sessions"
        access = "\(stateDir)/access"
        pid_file = "\(stateDir)/run/rttyd.pid"

        [control]
        # The demo's own user and group run rttyctl (a system group such as rtty-admin
        # could not be given to the socket without root).
        admin_group = "\(group)"

        [defaults]
        replay_bytes = 65536
        timestamps = true
        group = "\(group)"

        [console.demo]
        exec = ["\(executable)", "--guest-simulator"]

        [console.shell]
        exec = ["/bin/sh", "-i"]
        rows = 24
        cols = 80

        """
    }
}
