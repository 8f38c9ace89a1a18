#define _GNU_SOURCE
#include "CRTTYShims.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__FreeBSD__)
#include <sys/un.h>
#endif

rtty_sockopt rtty_peercred_option(void) {
    rtty_sockopt option;
#if defined(__FreeBSD__)
    option.level = SOL_LOCAL;
    option.name = LOCAL_PEERCRED;
#elif defined(__linux__)
    option.level = SOL_SOCKET;
    option.name = SO_PEERCRED;
#else
    option.level = -1;
    option.name = -1;
#endif
    return option;
}

int rtty_peercred_decode(const rtty_peercred_raw *raw, pid_t *pid, uid_t *uid, gid_t *gid) {
#if defined(__FreeBSD__)
    const struct xucred *xu = &raw->cred;
    // A zeroed buffer would read as version 0 (XUCRED_VERSION) and uid 0: the kernel
    // always reports the effective gid as the first group, so no groups is not its answer.
    if (xu->cr_version != XUCRED_VERSION || xu->cr_ngroups < 1) { errno = EPROTO; return -1; }
    *uid = xu->cr_uid;
    *gid = xu->cr_groups[0];
#if __FreeBSD_version >= 1300000
    *pid = xu->cr_pid;
#else
    *pid = -1;
#endif
    return 0;
#elif defined(__linux__)
    *pid = raw->cred.pid;
    *uid = raw->cred.uid;
    *gid = raw->cred.gid;
    return 0;
#else
    (void)raw; (void)pid; (void)uid; (void)gid;
    errno = ENOSYS;
    return -1;
#endif
}

int rtty_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    rtty_sockopt option = rtty_peercred_option();
    rtty_peercred_raw raw;
    memset(&raw, 0, sizeof(raw));
    socklen_t len = sizeof(raw);
    if (getsockopt(fd, option.level, option.name, &raw, &len) != 0) return -1;
    if (len != sizeof(raw)) { errno = EPROTO; return -1; }
    return rtty_peercred_decode(&raw, pid, uid, gid);
}
