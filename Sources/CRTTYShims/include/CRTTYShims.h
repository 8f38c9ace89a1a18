#ifndef CRTTYSHIMS_H
#define CRTTYSHIMS_H

#include <sys/types.h>

#if defined(__FreeBSD__)
#include <sys/param.h>
#include <sys/ucred.h>
#endif

/// Layout of Linux's `struct ucred` (SO_PEERCRED), which Swift cannot see without
/// _GNU_SOURCE.
typedef struct {
    pid_t pid;
    uid_t uid;
    gid_t gid;
} rtty_ucred;

/// A Unix socket's peer credentials as the kernel hands them out in a socket option: this
/// platform's structure, so that its size is what the option needs (`struct ucred` on
/// Linux, `struct xucred` on FreeBSD). Read it with any API that takes a level and a name
/// (rtty_peercred_option), then decode it with rtty_peercred_decode.
typedef struct {
#if defined(__FreeBSD__)
    struct xucred cred;
#else
    rtty_ucred cred;
#endif
} rtty_peercred_raw;

/// Level and name of the peer-credential socket option: SOL_SOCKET/SO_PEERCRED on
/// Linux, SOL_LOCAL (0)/LOCAL_PEERCRED (1) on FreeBSD.
typedef struct {
    int level;
    int name;
} rtty_sockopt;
rtty_sockopt rtty_peercred_option(void);

/// The peer's pid (-1 where the kernel does not say), uid and gid (the effective ones,
/// as at connect time) from a raw option. Returns 0, or -1 with errno EPROTO for a
/// structure this code does not know (FreeBSD: another cr_version, or no groups).
int rtty_peercred_decode(const rtty_peercred_raw *raw, pid_t *pid, uid_t *uid, gid_t *gid);

/// Peer credentials of a connected Unix socket descriptor: the same option and the same
/// decoding. Returns 0 or -1 with errno set.
int rtty_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/// Accepts one waiting connection, non-blocking and close-on-exec from birth (accept4).
/// Returns the descriptor, or -1 with errno set (EAGAIN: nobody waiting).
int rtty_accept(int listener);

/// mkstemp(3) with the new file close-on-exec from birth (mkostemp).
int rtty_mkstemp(char *template_path);

/// Names the calling thread (at most 15 bytes; longer names are refused by the kernel, so
/// the caller cuts them). Best effort: a name is only a label for top -H, ps -L and perf.
void rtty_set_thread_name(const char *name);

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

/// A new pty pair, both ends close-on-exec from birth and neither our controlling
/// terminal. Returns 0 or -1 with errno set.
int rtty_open_pty(int *master_fd, int *slave_fd);

/// Forks a child in a new session with the slave side of a new pty as its controlling
/// terminal and its descriptors 0-2, and nothing else open (every other descriptor is
/// closed in the child, close-on-exec or not), then execs argv[0] (a path) with envp.
/// The master is returned non-blocking and close-on-exec. All fork/exec of the daemon
/// goes through here. Returns 0 or -1 with errno set (also when exec failed).
int rtty_spawn_pty(const char *const argv[], const char *const envp[],
                   unsigned short rows, unsigned short cols,
                   int *master_fd, pid_t *child_pid);

/// The same for a command with no terminal: /dev/null as its stdin, one pipe as its
/// stdout and stderr (the read end returned, blocking and close-on-exec), in a session of
/// its own so that a timeout can end the whole process group.
int rtty_spawn_piped(const char *const argv[], const char *const envp[],
                     int *output_fd, pid_t *child_pid);

/// Sets the window size of a pty (master or slave side).
int rtty_set_window_size(int fd, unsigned short rows, unsigned short cols);

#if defined(__linux__)
/// getauxval(AT_SECURE): nonzero when the kernel ran this program in secure-execution mode
/// (set-id, file capabilities, an LSM's say). <sys/auxv.h> is not in Swift's Glibc module.
unsigned long rtty_at_secure(void);
#endif

#endif
