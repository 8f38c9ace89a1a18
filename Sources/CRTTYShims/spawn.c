// The code between fork and exec must be async-signal-safe, so it lives in C.
#define _GNU_SOURCE
#include "CRTTYShims.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int rtty_set_window_size(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof(ws));
    ws.ws_row = rows;
    ws.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int rtty_open_pty(int *master_fd, int *slave_fd) {
    // posix_openpt and an open of the slave, not openpty(3): openpty has no flags, and a
    // fork on another thread between it and a later fcntl would take both ends along.
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0) goto fail;
    int slave = -1;
#if defined(TIOCGPTPEER)
    // Linux 4.13+: the slave of this very master, without a path lookup.
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
#endif
    if (slave < 0) {
        char name[128];
        if (ptsname_r(master, name, sizeof(name)) != 0) goto fail;
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) goto fail;
    }
    *master_fd = master;
    *slave_fd = slave;
    return 0;
fail:;
    int e = errno;
    close(master);
    errno = e;
    return -1;
}

/// Closes every descriptor from `first` up. close_range(2) where the kernel has it
/// (Linux 5.9+), closefrom(3) on FreeBSD, else a loop up to the open-file limit. Only
/// async-signal-safe calls: this runs between fork and exec.
static void close_from(int first) {
#if defined(__FreeBSD__)
    closefrom(first);
#else
#if defined(SYS_close_range)
    if (syscall(SYS_close_range, (unsigned int)first, ~0U, 0) == 0) return;
#endif
    struct rlimit limit;
    long last = 65536;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 1048576) {
        last = (long)limit.rlim_cur;
    }
    for (long fd = first; fd < last; fd++) close((int)fd);
#endif
}

/// A copy of `fd` at 3 or above (close-on-exec), so that dup2 onto 0-2 cannot clobber it.
static int above_stdio(int fd) {
    return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/// The child: `in` as descriptor 0 and `out` as 1 and 2 (for a pty both are the slave,
/// which also becomes the controlling terminal); the status pipe at 3 (close-on-exec, so a
/// successful exec closes it); nothing else at all, whatever the daemon (or a library in
/// it) left without close-on-exec.
static void run_child(int in, int out, int controlling_tty, int status_fd,
                      const char *const argv[], const char *const envp[]) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    status_fd = above_stdio(status_fd);
    in = above_stdio(in);
    out = above_stdio(out);
    int ok = status_fd >= 0 && in >= 0 && out >= 0 && setsid() >= 0 &&
             (!controlling_tty || ioctl(in, TIOCSCTTY, 0) == 0) &&
             dup2(in, 0) == 0 && dup2(out, 1) == 1 && dup2(out, 2) == 2 &&
             (status_fd == 3 || dup2(status_fd, 3) == 3) && fcntl(3, F_SETFD, FD_CLOEXEC) == 0;
    if (ok) {
        close_from(4);
        execve(argv[0], (char *const *)argv, (char *const *)envp);
    }
    int e = errno;
    ssize_t ignored = write(ok ? 3 : status_fd, &e, sizeof(e));
    (void)ignored;
    _exit(127);
}

/// Forks and runs `argv` as run_child says; `in` and `out` are closed in the parent. The
/// pid, or -1 with errno set (also when exec failed).
static pid_t spawn_child(int in, int out, int controlling_tty,
                         const char *const argv[], const char *const envp[]) {
    // A pipe that closes on a successful exec tells the parent whether exec worked.
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) {
        int e = errno; close(in); if (out != in) close(out); errno = e; return -1;
    }
    pid_t pid = fork();
    if (pid == 0) run_child(in, out, controlling_tty, status_pipe[1], argv, envp);
    int fork_errno = errno;
    close(in);
    if (out != in) close(out);
    close(status_pipe[1]);
    if (pid < 0) {
        close(status_pipe[0]);
        errno = fork_errno;
        return -1;
    }
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(status_pipe[0], &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (n == sizeof(child_errno)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        errno = child_errno;
        return -1;
    }
    return pid;
}

int rtty_spawn_pty(const char *const argv[], const char *const envp[],
                   unsigned short rows, unsigned short cols,
                   int *master_fd, pid_t *child_pid) {
    int master = -1, slave = -1;
    if (rtty_open_pty(&master, &slave) != 0) return -1;
    if (rtty_set_window_size(slave, rows, cols) != 0) {
        int e = errno; close(master); close(slave); errno = e; return -1;
    }
    pid_t pid = spawn_child(slave, slave, 1, argv, envp);
    if (pid < 0) {
        int e = errno; close(master); errno = e; return -1;
    }
    int flags = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, flags | O_NONBLOCK);
    *master_fd = master;
    *child_pid = pid;
    return 0;
}

int rtty_spawn_piped(const char *const argv[], const char *const envp[],
                     int *output_fd, pid_t *child_pid) {
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) return -1;
    int output[2];
    if (pipe2(output, O_CLOEXEC) != 0) {
        int e = errno; close(null_fd); errno = e; return -1;
    }
    pid_t pid = spawn_child(null_fd, output[1], 0, argv, envp);
    if (pid < 0) {
        int e = errno; close(output[0]); errno = e; return -1;
    }
    *output_fd = output[0];
    *child_pid = pid;
    return 0;
}
