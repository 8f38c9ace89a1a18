// Naming a thread: glibc declares pthread_setname_np for _GNU_SOURCE only, and FreeBSD
// spells it pthread_set_name_np.
#define _GNU_SOURCE
#include "CRTTYShims.h"
#include <pthread.h>
#if defined(__FreeBSD__)
#include <pthread_np.h>
#endif

void rtty_set_thread_name(const char *name) {
#if defined(__FreeBSD__)
    pthread_set_name_np(pthread_self(), name);
#else
    (void)pthread_setname_np(pthread_self(), name);
#endif
}
