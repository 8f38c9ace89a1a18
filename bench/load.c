/*
 * The benchmark's guests and clients, in C so that they cost the same for every server
 * under test and never become the bottleneck (bench/run.py compiles and drives this).
 *
 *   load source pty|unix:PATH      a guest that writes on demand: prints its device (the
 *                                  pty's slave path, or PATH once a server connected), then
 *                                  for each stdin line "send N" writes MARKER and N bytes
 *                                  of the pattern (0..255 repeated) and prints "sent".
 *   load echo pty|unix:PATH        a guest that echoes every byte it reads.
 *   load read N FRAMING EP...      one client per endpoint; each must receive MARKER and then
 *                                  N bytes of the pattern, every byte checked. Prints
 *                                  "ready" once connected, "done" when every client holds
 *                                  all of it (exit 1 on a wrong byte or a closed peer).
 *   load rtt N FRAMING EP          N keystroke round trips through an echoing guest; prints
 *                                  "p50 p90 p99 max" in microseconds.
 *   load rtt N cmd|ptycmd -- ARGV  the same through a program's stdin/stdout (pipes, or a pty
 *                                  for clients that want a terminal).
 *
 * FRAMING: rtty (rtty/1 frames; HELLO "rtty/1 noreplay" and WHOSON are sent first) or raw.
 * EP: unix:PATH, tcp:HOST:PORT or fd:N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char MARKER[] = "\x02<rtty-bench-start>\x03";
#define MARKER_LEN (sizeof(MARKER) - 1)
#define CHUNK 65536

static unsigned char pattern[CHUNK + 256];

static void die(const char *what) {
    fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void fail(const char *what) {
    fprintf(stderr, "load: %s\n", what);
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            poll(&pfd, 1, -1);
            continue;
        }
        if (w < 0) die("write");
        p += w;
        n -= (size_t)w;
    }
}

static void make_raw(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
}

static int connect_endpoint(const char *ep) {
    if (strncmp(ep, "fd:", 3) == 0) return atoi(ep + 3);
    if (strncmp(ep, "unix:", 5) == 0) {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", ep + 5);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die(ep);
        return fd;
    }
    if (strncmp(ep, "tcp:", 4) == 0) {
        char host[256];
        snprintf(host, sizeof host, "%s", ep + 4);
        char *colon = strrchr(host, ':');
        if (!colon) fail("tcp endpoint needs HOST:PORT");
        *colon = 0;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
        if (getaddrinfo(host, colon + 1, &hints, &res) != 0) fail("cannot resolve tcp endpoint");
        int fd = socket(res->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) die(ep);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
        freeaddrinfo(res);
        return fd;
    }
    fail("endpoint must be unix:PATH, tcp:HOST:PORT or fd:N");
    return -1;
}

/* rtty/1 framing: 16-bit big-endian kind (0x100 = query), 16-bit length or value. */
static void send_frame(int fd, int kind, const void *payload, size_t n) {
    unsigned char frame[4 + 256];
    frame[0] = 0;
    frame[1] = (unsigned char)kind;
    frame[2] = (unsigned char)(n >> 8);
    frame[3] = (unsigned char)n;
    memcpy(frame + 4, payload, n);
    write_all(fd, frame, 4 + n);
}

static void rtty_greet(int fd, const char *who) {
    send_frame(fd, 16, "rtty/1 noreplay", 15);
    send_frame(fd, 6, who, strlen(who));
}

/* A decoder of one connection: unframes rtty/1 DATA (or passes raw bytes) to `sink`. */
struct conn {
    int fd;
    int rtty;
    unsigned char header[4];
    int header_len;
    size_t payload_left;
    int payload_is_data;
};

typedef void (*sink_fn)(void *ctx, const unsigned char *p, size_t n);

static void decode(struct conn *c, const unsigned char *p, size_t n, sink_fn sink, void *ctx) {
    if (!c->rtty) {
        sink(ctx, p, n);
        return;
    }
    while (n > 0) {
        if (c->payload_left > 0) {
            size_t take = n < c->payload_left ? n : c->payload_left;
            if (c->payload_is_data) sink(ctx, p, take);
            p += take;
            n -= take;
            c->payload_left -= take;
            continue;
        }
        c->header[c->header_len++] = *p++;
        n--;
        if (c->header_len < 4) continue;
        c->header_len = 0;
        int kind = c->header[1];
        size_t length = ((size_t)c->header[2] << 8) | c->header[3];
        int has_payload = kind == 1 || kind == 8 || kind >= 16;
        c->payload_left = has_payload ? length : 0;
        c->payload_is_data = kind == 1;
    }
}

/* ---- read: N bytes to every client, checked ---- */

struct reader {
    struct conn conn;
    int synced;
    unsigned char tail[MARKER_LEN * 2];
    size_t tail_len;
    size_t want, got;
};

static void check(struct reader *r, const unsigned char *p, size_t n) {
    if (n > r->want - r->got) fail("more bytes than the guest wrote");
    while (n > 0) {
        size_t take = n < CHUNK ? n : CHUNK;
        if (memcmp(p, pattern + r->got % 256, take) != 0) {
            fprintf(stderr, "load: wrong bytes near offset %zu\n", r->got);
            exit(1);
        }
        r->got += take;
        p += take;
        n -= take;
    }
}

static void reader_sink(void *ctx, const unsigned char *p, size_t n) {
    struct reader *r = ctx;
    while (!r->synced && n > 0) {
        /* Look for the marker across chunk boundaries with a small sliding window. */
        size_t take = n < MARKER_LEN ? n : MARKER_LEN;
        memcpy(r->tail + r->tail_len, p, take);
        r->tail_len += take;
        p += take;
        n -= take;
        unsigned char *hit = memmem(r->tail, r->tail_len, MARKER, MARKER_LEN);
        if (hit) {
            r->synced = 1;
            size_t after = r->tail_len - (size_t)(hit - r->tail) - MARKER_LEN;
            check(r, hit + MARKER_LEN, after);
        } else if (r->tail_len >= MARKER_LEN) {
            memmove(r->tail, r->tail + r->tail_len - (MARKER_LEN - 1), MARKER_LEN - 1);
            r->tail_len = MARKER_LEN - 1;
        }
    }
    if (n > 0) check(r, p, n);
}

static int cmd_read(int argc, char **argv) {
    if (argc < 4) fail("usage: load read N FRAMING EP...");
    size_t want = strtoull(argv[1], NULL, 10);
    int rtty = strcmp(argv[2], "rtty") == 0;
    int count = argc - 3;
    struct reader *readers = calloc((size_t)count, sizeof *readers);
    int ep = epoll_create1(0);
    for (int i = 0; i < count; i++) {
        readers[i].conn.fd = connect_endpoint(argv[3 + i]);
        readers[i].conn.rtty = rtty;
        readers[i].want = want;
        if (rtty) rtty_greet(readers[i].conn.fd, "bench@load");
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = &readers[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, readers[i].conn.fd, &e) < 0) die("epoll_ctl");
    }
    printf("ready\n");
    fflush(stdout);
    static unsigned char buffer[1 << 18];
    int finished = 0;
    struct epoll_event events[64];
    while (finished < count) {
        int n = epoll_wait(ep, events, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct reader *r = events[i].data.ptr;
            ssize_t got = read(r->conn.fd, buffer, sizeof buffer);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (got <= 0) {
                fprintf(stderr, "load: a client was closed after %zu of %zu bytes\n", r->got, r->want);
                exit(1);
            }
            decode(&r->conn, buffer, (size_t)got, reader_sink, r);
            if (r->got == r->want) {
                finished++;
                epoll_ctl(ep, EPOLL_CTL_DEL, r->conn.fd, NULL);
            }
        }
    }
    printf("done\n");
    fflush(stdout);
    /* Stay connected until told to go, so a server never sees clients leave mid-run. */
    char line[64];
    while (fgets(line, sizeof line, stdin)) {}
    return 0;
}

/* ---- guests ---- */

/* Opens the guest's side: a pty pair (prints the slave), or a listening Unix socket that
 * the server connects to (prints PATH, then waits for the server). */
static int open_guest(const char *spec) {
    if (strcmp(spec, "pty") == 0) {
        int master, slave;
        if (openpty(&master, &slave, NULL, NULL, NULL) < 0) die("openpty");
        make_raw(slave);
        printf("%s\n", ttyname(slave));
        fflush(stdout);
        /* The slave stays open here too, so the pty never hangs up between server opens. */
        return master;
    }
    if (strncmp(spec, "unix:", 5) != 0) fail("guest must be pty or unix:PATH");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", spec + 5);
    unlink(a.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4) < 0) die(spec);
    printf("%s\n", spec + 5);
    fflush(stdout);
    int peer = accept(fd, NULL, NULL);
    if (peer < 0) die("accept");
    close(fd);
    return peer;
}

static int cmd_source(int argc, char **argv) {
    if (argc < 2) fail("usage: load source pty|unix:PATH");
    int fd = open_guest(argv[1]);
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = 0;
        if (sscanf(line, "send %zu", &n) != 1) continue;
        write_all(fd, MARKER, MARKER_LEN);
        for (size_t sent = 0; sent < n;) {
            size_t take = n - sent < CHUNK ? n - sent : CHUNK;
            write_all(fd, pattern + sent % 256, take);
            sent += take;
        }
        printf("sent\n");
        fflush(stdout);
    }
    return 0;
}

static int cmd_echo(int argc, char **argv) {
    if (argc < 2) fail("usage: load echo pty|unix:PATH");
    int fd = open_guest(argv[1]);
    unsigned char buffer[4096];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EIO)) {
            if (errno == EIO) usleep(10000); /* pty slave closed by the server: wait */
            continue;
        }
        if (n <= 0) return 0;
        write_all(fd, buffer, (size_t)n);
    }
}

/* ---- rtt: keystroke round trips ---- */

struct seeker {
    unsigned char byte;
    int seen;
    unsigned char text[64];
    size_t text_len;
};

static void seek_sink(void *ctx, const unsigned char *p, size_t n) {
    struct seeker *s = ctx;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == s->byte) s->seen = 1;
        if (s->text_len == sizeof s->text) {
            memmove(s->text, s->text + 1, sizeof s->text - 1);
            s->text_len--;
        }
        s->text[s->text_len++] = p[i];
    }
}

static void send_key(struct conn *c, int out, const void *p, size_t n) {
    if (c->rtty) send_frame(out, 1, p, n);
    else write_all(out, p, n);
}

static int read_some(struct conn *c, struct seeker *s, int timeout_ms) {
    struct pollfd pfd = {c->fd, POLLIN, 0};
    int r = poll(&pfd, 1, timeout_ms);
    if (r <= 0) return 0;
    unsigned char buffer[4096];
    ssize_t n = read(c->fd, buffer, sizeof buffer);
    if (n <= 0) fail("the connection closed during the round trips");
    decode(c, buffer, (size_t)n, seek_sink, s);
    return 1;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static pid_t spawn(char **argv, int use_pty, int *in, int *out) {
    if (use_pty) {
        int master;
        pid_t pid = forkpty(&master, NULL, NULL, NULL);
        if (pid < 0) die("forkpty");
        if (pid == 0) {
            execvp(argv[0], argv);
            _exit(127);
        }
        make_raw(master);
        *in = *out = master;
        return pid;
    }
    int to[2], from[2];
    if (pipe(to) < 0 || pipe(from) < 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[1]);
        close(from[0]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    *in = to[1];
    *out = from[0];
    return pid;
}

static int cmd_rtt(int argc, char **argv) {
    if (argc < 4) fail("usage: load rtt N FRAMING EP | load rtt N cmd|ptycmd -- ARGV...");
    int count = atoi(argv[1]);
    struct conn c = {0};
    int out;
    pid_t child = 0;
    if (strcmp(argv[2], "cmd") == 0 || strcmp(argv[2], "ptycmd") == 0) {
        if (argc < 5 || strcmp(argv[3], "--") != 0) fail("cmd needs -- ARGV");
        child = spawn(argv + 4, strcmp(argv[2], "ptycmd") == 0, &out, &c.fd);
    } else {
        c.rtty = strcmp(argv[2], "rtty") == 0;
        c.fd = out = connect_endpoint(argv[3]);
        if (c.rtty) rtty_greet(c.fd, "bench@rtt");
    }
    /* Sync: type a word until its echo comes back (banners and prompts go by), then let
     * the line go quiet. */
    struct seeker s = {0};
    const char *word = "qzsyncq";
    double give_up = now() + 30;
    int synced = 0;
    while (!synced && now() < give_up) {
        send_key(&c, out, word, strlen(word));
        double until = now() + 0.5;
        while (now() < until && !synced) {
            read_some(&c, &s, 50);
            synced = memmem(s.text, s.text_len, word, strlen(word)) != NULL;
        }
    }
    if (!synced) fail("no echo within 30 s");
    while (read_some(&c, &s, 300)) {}
    double *samples = malloc(sizeof(double) * (size_t)count);
    for (int i = 0; i < count; i++) {
        unsigned char key = (unsigned char)('a' + i % 26);
        s.byte = key;
        s.seen = 0;
        double start = now();
        send_key(&c, out, &key, 1);
        while (!s.seen) {
            if (!read_some(&c, &s, 5000)) fail("no echo within 5 s");
        }
        samples[i] = (now() - start) * 1e6;
    }
    qsort(samples, (size_t)count, sizeof(double), compare_double);
    printf("%.1f %.1f %.1f %.1f\n", samples[count / 2], samples[count * 9 / 10], samples[count * 99 / 100],
           samples[count - 1]);
    fflush(stdout);
    if (child > 0) {
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
    }
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (unsigned char)i;
    if (argc < 2) fail("usage: load source|echo|read|rtt ...");
    if (strcmp(argv[1], "source") == 0) return cmd_source(argc - 1, argv + 1);
    if (strcmp(argv[1], "echo") == 0) return cmd_echo(argc - 1, argv + 1);
    if (strcmp(argv[1], "read") == 0) return cmd_read(argc - 1, argv + 1);
    if (strcmp(argv[1], "rtt") == 0) return cmd_rtt(argc - 1, argv + 1);
    fail("unknown mode");
    return 2;
}
