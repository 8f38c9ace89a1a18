#define _GNU_SOURCE
#include "CRTTYShims.h"
#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__FreeBSD__)
#include <sys/ucred.h>
#include <sys/un.h>
#endif

int rtty_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
#if defined(__linux__)
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    if (len != sizeof(cred)) { errno = EPROTO; return -1; }
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
#elif defined(__FreeBSD__)
    struct xucred xu;
    socklen_t len = sizeof(xu);
    if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERCRED, &xu, &len) != 0) return -1;
    if (xu.cr_version != XUCRED_VERSION) { errno = EPROTO; return -1; }
    *uid = xu.cr_uid;
    *gid = xu.cr_ngroups > 0 ? xu.cr_groups[0] : (gid_t)-1;
#if __FreeBSD_version >= 1300000
    *pid = xu.cr_pid;
#else
    *pid = -1;
#endif
    return 0;
#else
    errno = ENOSYS;
    return -1;
#endif
}

int rtty_setresgid(gid_t gid) {
#if defined(__linux__) || defined(__FreeBSD__)
    return setresgid(gid, gid, gid);
#else
    return setregid(gid, gid);
#endif
}

int rtty_setresuid(uid_t uid) {
#if defined(__linux__) || defined(__FreeBSD__)
    return setresuid(uid, uid, uid);
#else
    return setreuid(uid, uid);
#endif
}
