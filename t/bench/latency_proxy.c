/* latency_proxy: a loopback TCP proxy that delays every byte by a fixed
 * time in each direction, to bench wsmsd against a database "over the
 * network" (make bench: 1 ms each way between wsmsd and PostgreSQL or the
 * T-SQL server).
 *
 *   latency_proxy LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_US
 *
 * Prints "ready" on stdout once listening. Each accepted connection gets an
 * upstream connection and two forwarding directions; each direction has a
 * reader thread that stamps what it reads and queues it, and a writer
 * thread that sends each chunk once its stamp is DELAY_US old, so the
 * delay is a latency (chunks in flight overlap), not a bandwidth limit.
 * The writer sleeps to just before the due time (absolute clock, timer
 * slack 1 ns) and spins the rest, so the delay is DELAY_US and not the
 * scheduler's wake-up latency on top (a plain relative sleep added 0.1 to
 * 0.3 ms per hop on a loaded 2-core machine). On SIGTERM or SIGINT it
 * prints what it measured ("delay: N chunks, mean M us, max X us" from
 * each chunk's read to the start of its write) and exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct chunk {
    struct chunk *next;
    int64_t due_us;
    size_t len;
    char data[];
};

struct dir {
    int from, to;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct chunk *head, *tail;
    int closed;
    struct conn *c;
};

struct conn {
    struct dir ab, ba;
    pthread_mutex_t mu;
    int refs;
};

static long delay_us;
/* what the writers measured: chunks, the sum and the largest delay (us) */
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static long long n_chunks, sum_us, max_us;
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void conn_release(struct conn *c)
{
    pthread_mutex_lock(&c->mu);
    int left = --c->refs;
    pthread_mutex_unlock(&c->mu);
    if (left > 0)
        return;
    close(c->ab.from);
    close(c->ab.to);
    free(c);
}

static void *reader(void *arg)
{
    struct dir *d = arg;
    char buf[65536];
    for (;;) {
        ssize_t n = read(d->from, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        pthread_mutex_lock(&d->mu);
        if (n <= 0) {
            d->closed = 1;
            pthread_cond_signal(&d->cv);
            pthread_mutex_unlock(&d->mu);
            break;
        }
        struct chunk *ch = malloc(sizeof(*ch) + (size_t)n);
        if (!ch) {
            d->closed = 1;
            pthread_cond_signal(&d->cv);
            pthread_mutex_unlock(&d->mu);
            break;
        }
        ch->next = NULL;
        ch->due_us = mono_us() + delay_us;
        ch->len = (size_t)n;
        memcpy(ch->data, buf, (size_t)n);
        if (d->tail)
            d->tail->next = ch;
        else
            d->head = ch;
        d->tail = ch;
        pthread_cond_signal(&d->cv);
        pthread_mutex_unlock(&d->mu);
    }
    conn_release(d->c);
    return NULL;
}

static void *writer(void *arg)
{
    struct dir *d = arg;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        while (!d->head && !d->closed)
            pthread_cond_wait(&d->cv, &d->mu);
        struct chunk *ch = d->head;
        if (!ch) {
            pthread_mutex_unlock(&d->mu);
            break;
        }
        d->head = ch->next;
        if (!d->head)
            d->tail = NULL;
        pthread_mutex_unlock(&d->mu);
        /* sleep to 50 us before the due time, spin the rest */
        int64_t early = ch->due_us - 50;
        if (early > mono_us()) {
            struct timespec ts = {early / 1000000, (early % 1000000) * 1000};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        }
        int64_t now;
        while ((now = mono_us()) < ch->due_us)
            ;
        pthread_mutex_lock(&stats_mu);
        int64_t took = now - (ch->due_us - delay_us);
        n_chunks++;
        sum_us += took;
        if (took > max_us)
            max_us = took;
        pthread_mutex_unlock(&stats_mu);
        size_t off = 0;
        while (off < ch->len) {
            ssize_t w = write(d->to, ch->data + off, ch->len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        int failed = off < ch->len;
        free(ch);
        if (failed)
            break;
    }
    /* the other side sees the end of this direction */
    shutdown(d->to, SHUT_WR);
    pthread_mutex_lock(&d->mu);
    while (d->head) {
        struct chunk *n = d->head->next;
        free(d->head);
        d->head = n;
    }
    pthread_mutex_unlock(&d->mu);
    conn_release(d->c);
    return NULL;
}

static int dial(const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void start_dir(struct dir *d, struct conn *c, int from, int to)
{
    pthread_t t;
    d->from = from;
    d->to = to;
    d->c = c;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&t, NULL, reader, d) == 0)
        pthread_detach(t);
    else
        conn_release(c);
    if (pthread_create(&t, NULL, writer, d) == 0)
        pthread_detach(t);
    else
        conn_release(c);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_US\n", argv[0]);
        return 2;
    }
    delay_us = strtol(argv[4], NULL, 10);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop; /* no SA_RESTART: accept() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 128) != 0) {
        perror("latency_proxy: listen");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int cfd = accept(ls, NULL, NULL);
        if (stop) {
            pthread_mutex_lock(&stats_mu);
            printf("delay: %lld chunks, mean %lld us, max %lld us\n", n_chunks,
                   n_chunks ? sum_us / n_chunks : 0, max_us);
            pthread_mutex_unlock(&stats_mu);
            fflush(stdout);
            return 0;
        }
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            perror("latency_proxy: accept");
            return 1;
        }
        int ufd = dial(argv[2], argv[3]);
        if (ufd < 0) {
            close(cfd);
            continue;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(cfd);
            close(ufd);
            continue;
        }
        pthread_mutex_init(&c->mu, NULL);
        c->refs = 4; /* two threads per direction */
        start_dir(&c->ab, c, cfd, ufd);
        start_dir(&c->ba, c, ufd, cfd);
    }
}
