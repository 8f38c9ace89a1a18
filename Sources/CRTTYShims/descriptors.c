// Calls that make descriptors close-on-exec from birth but that Swift cannot see (glibc
// declares accept4 and mkostemp for _GNU_SOURCE only).
#define _GNU_SOURCE
#include "CRTTYShims.h"
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>

int rtty_accept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int rtty_mkstemp(char *template_path) {
    return mkostemp(template_path, O_CLOEXEC);
}
