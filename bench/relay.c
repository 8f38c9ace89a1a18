/*
 * The benchmark's reference for "N clients": the least a fan-out server can do. It opens
 * the guest (a pty slave, as a serial port, or a guest's Unix socket), accepts N clients on
 * a Unix socket, then loops: one read of up to 64 KiB from the guest, the same bytes
 * written whole to every client in turn (blocking writes, no queue, no framing). What a
 * real server does on top of this (framing, queues, logs, recording) is what rttyd's rows
 * are compared against (bench/run.py compiles and drives this).
 *
 *   relay N pty:DEVICE|unix:PATH SOCKET   prints "listening" once SOCKET accepts, then
 *                                         relays after the Nth client connected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what) {
    fprintf(stderr, "relay: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int unix_socket(const char *path, int listening) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (listening && (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1024) < 0)) die(path);
    if (!listening && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die(path);
    return fd;
}

static int open_source(const char *spec) {
    if (strncmp(spec, "unix:", 5) == 0) return unix_socket(spec + 5, 0);
    if (strncmp(spec, "pty:", 4) != 0) {
        fprintf(stderr, "relay: the guest must be pty:DEVICE or unix:PATH\n");
        exit(2);
    }
    int fd = open(spec + 4, O_RDWR | O_NOCTTY);
    if (fd < 0) die(spec + 4);
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) die("write to a client");
        p += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: relay N pty:DEVICE|unix:PATH SOCKET\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int count = atoi(argv[1]);
    int source = open_source(argv[2]);
    int listener = unix_socket(argv[3], 1);
    printf("listening\n");
    fflush(stdout);
    int *clients = calloc((size_t)count, sizeof *clients);
    for (int i = 0; i < count; i++) {
        clients[i] = accept(listener, NULL, NULL);
        if (clients[i] < 0) die("accept");
    }
    static char buffer[65536];
    for (;;) {
        ssize_t n = read(source, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return 0;
        for (int i = 0; i < count; i++) write_all(clients[i], buffer, (size_t)n);
    }
}
