#ifndef CRTTYSHIMS_H
#define CRTTYSHIMS_H

#include <sys/types.h>

/// Layout of Linux's `struct ucred` (SO_PEERCRED), which Swift cannot see without
/// _GNU_SOURCE; used to read the option through a socket-option API.
typedef struct {
    pid_t pid;
    uid_t uid;
    gid_t gid;
} rtty_ucred;

/// Peer credentials of a connected Unix socket (SO_PEERCRED on Linux,
/// getpeereid/LOCAL_PEERCRED on FreeBSD). Returns 0 or -1 with errno set.
int rtty_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/// Sets input and output speed to any rate the driver accepts (termios2/BOTHER on
/// Linux, a numeric speed_t on FreeBSD). Other termios fields are left alone.
int rtty_set_custom_speed(int fd, unsigned int speed);

/// Reads the output speed back as a number, also after a BOTHER set. -1 on error.
long rtty_get_speed(int fd);

/// Reads the input speed back as a number (glibc's cfgetispeed cannot see it). -1 on error.
long rtty_get_input_speed(int fd);

/// Makes the c_cflag of a termios take the input speed from the output speed (CIBAUD
/// cleared on Linux), which cfsetspeed alone does not do there.
void rtty_input_speed_follows_output(unsigned int *c_cflag);

/// Forks a child in a new session with the slave side of a new pty as its controlling
/// terminal and stdio, then execs argv[0] (a path) with envp. The master is returned
/// non-blocking and close-on-exec. Returns 0 or -1 with errno set.
int rtty_spawn_pty(const char *const argv[], const char *const envp[],
                   unsigned short rows, unsigned short cols,
                   int *master_fd, pid_t *child_pid);

/// Sets the window size of a pty (master or slave side).
int rtty_set_window_size(int fd, unsigned short rows, unsigned short cols);

/// setresgid / setresuid, which Swift's Glibc module does not expose.
int rtty_setresgid(gid_t gid);
int rtty_setresuid(uid_t uid);

#if defined(__linux__)
/// getauxval(AT_SECURE): nonzero when the kernel ran this program in secure-execution mode
/// (set-id, file capabilities, an LSM's say). <sys/auxv.h> is not in Swift's Glibc module.
unsigned long rtty_at_secure(void);
#endif

#endif
