#include "CRTTYShims.h"
#if defined(__linux__)
#include <sys/auxv.h>

unsigned long rtty_at_secure(void) { return getauxval(AT_SECURE); }
#endif
