// Kept apart from every other file: <asm/termbits.h> clashes with <termios.h>.
#include "CRTTYShims.h"
#include <errno.h>
#include <sys/ioctl.h>
#if defined(__linux__)
#include <asm/termbits.h>

int rtty_set_custom_speed(int fd, unsigned int speed) {
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0) return -1;
    t.c_cflag &= ~CBAUD;
    t.c_cflag |= BOTHER;
    t.c_ispeed = speed;
    t.c_ospeed = speed;
    t.c_cflag &= ~(CBAUD << IBSHIFT);
    t.c_cflag |= BOTHER << IBSHIFT;
    return ioctl(fd, TCSETS2, &t);
}

long rtty_get_speed(int fd) {
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0) return -1;
    return (long)t.c_ospeed;
}

long rtty_get_input_speed(int fd) {
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0) return -1;
    return (long)t.c_ispeed;
}

void rtty_input_speed_follows_output(unsigned int *c_cflag) {
    // CIBAUD zero: the input speed is the output speed. glibc's cfsetispeed leaves
    // CIBAUD alone, so after a BOTHER rate the old custom input speed stayed.
    *c_cflag &= ~(CBAUD << IBSHIFT);
}
#else
#include <termios.h>

int rtty_set_custom_speed(int fd, unsigned int speed) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    if (cfsetspeed(&t, (speed_t)speed) != 0) return -1;
    return tcsetattr(fd, TCSANOW, &t);
}

long rtty_get_speed(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    return (long)cfgetospeed(&t);
}

long rtty_get_input_speed(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    return (long)cfgetispeed(&t);
}

void rtty_input_speed_follows_output(unsigned int *c_cflag) {
    (void)c_cflag;  // cfsetspeed sets both speeds here
}
#endif
