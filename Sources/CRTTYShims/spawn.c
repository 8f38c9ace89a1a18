// The code between fork and exec must be async-signal-safe, so it lives in C.
#define _GNU_SOURCE
#include "CRTTYShims.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#if defined(__linux__)
#include <pty.h>
#else
#include <libutil.h>
#endif

int rtty_set_window_size(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof(ws));
    ws.ws_row = rows;
    ws.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int rtty_spawn_pty(const char *const argv[], const char *const envp[],
                   unsigned short rows, unsigned short cols,
                   int *master_fd, pid_t *child_pid) {
    int master = -1, slave = -1;
    struct winsize ws;
    memset(&ws, 0, sizeof(ws));
    ws.ws_row = rows;
    ws.ws_col = cols;
    if (openpty(&master, &slave, NULL, NULL, &ws) != 0) return -1;
    // A pipe that closes on a successful exec tells the parent whether exec worked.
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) {
        int e = errno; close(master); close(slave); errno = e; return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(master); close(slave); close(status_pipe[0]); close(status_pipe[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
        close(master);
        close(status_pipe[0]);
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        if (slave > 2) close(slave);
        execve(argv[0], (char *const *)argv, (char *const *)envp);
        int e = errno;
        ssize_t ignored = write(status_pipe[1], &e, sizeof(e));
        (void)ignored;
        _exit(127);
    }
    close(slave);
    close(status_pipe[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(status_pipe[0], &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (n == sizeof(child_errno)) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        close(master);
        errno = child_errno;
        return -1;
    }
    int flags = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, flags | O_NONBLOCK);
    fcntl(master, F_SETFD, FD_CLOEXEC);
    *master_fd = master;
    *child_pid = pid;
    return 0;
}
