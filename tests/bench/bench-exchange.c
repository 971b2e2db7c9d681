/* SPDX-License-Identifier: MIT */
/* Benchmark of the token exchange: N concurrent join requests (default 100) from N nodes (each its own
 * 127.0.x.y address, as N Pis would have) against one server with the test provider and the production
 * limits, for R rounds. The server runs in a child process with its own event loop, the clients share one
 * loop in the parent. Prints latency percentiles per request (nonce + signed request + sealed answer) and
 * fails if any request failed.
 *
 *   bench-exchange [--clients N] [--rounds R] [--delay-ms D] [--control-plane] [--flood A:C]
 *
 * --flood A:C: a third process keeps C silent connections open from each of A addresses (127.1.x.y) for the
 * whole run, opening a new one at once whenever the server closes one (as a flooding host would); the
 * clients start once the flood is up. A bounded flood: it stops after FLOOD_MAX_SEC by itself.
 *
 * Run on demand: `cmake --build build --target bench` (not a ctest test). */

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exchange-client.h"
#include "exchange-server.h"
#include "exchange-test-provider.h"
#include "log.h"

#define SECRET "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define MAXC   1000

#define FLOOD_MAX_ADDRS 250
#define FLOOD_MAX_CONNS 64
#define FLOOD_MAX_SEC   600

typedef struct Sample {
        uint64_t start, end;
        int error;
        bool done;
} Sample;

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* The server: until the parent kills it. Writes its port to fd. */
static int server_main(int fd, unsigned delay_ms)
{
        sd_event *e = NULL;
        ExchangeTestProvider *p = NULL;
        ExchangeServer *s = NULL;
        uint16_t port;

        if (sd_event_new(&e) < 0 || exchange_test_provider_new(e, "master-1", &p) < 0)
                return 1;
        p->delay_usec = delay_ms * 1000ULL;
        if (exchange_server_new(e, SECRET, &(ExchangeServerOptions){.http = {.address = "127.0.0.1"}},
                                &exchange_test_provider_ops, p, &s) < 0)
                return 1;
        port = exchange_server_get_port(s);
        if (write(fd, &port, sizeof port) != sizeof port)
                return 1;
        close(fd);
        (void)sd_event_loop(e);
        return 0;
}

static void on_done(void *userdata, int error, const ExchangeAnswer *a)
{
        Sample *s = userdata;

        s->end = now_usec();
        s->error = error;
        s->done = true;
}

static int cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* One round: n clients start at once; waits for all. Returns the number of failures; 409s (the ticket held
 * by another node) are counted in *busy instead. */
static unsigned round_run(sd_event *e, ExchangeClient **clients, unsigned n, uint16_t port, ExchangeQuery q,
                          Sample *samples, unsigned *busy)
{
        unsigned failed = 0, left = n;

        for (unsigned i = 0; i < n; i++) {
                samples[i] = (Sample){.start = now_usec()};
                if (exchange_client_request(clients[i], "127.0.0.1", port, &q, on_done, &samples[i], NULL) < 0)
                        samples[i] = (Sample){.done = true, .error = -EIO};
        }
        while (left > 0) {
                if (sd_event_run(e, UINT64_MAX) < 0)
                        break;
                left = 0;
                for (unsigned i = 0; i < n; i++)
                        left += !samples[i].done;
        }
        for (unsigned i = 0; i < n; i++)
                if (samples[i].error == -EBUSY)
                        (*busy)++;
                else if (samples[i].error < 0 && failed++ < 5)
                        fprintf(stderr, "client %u: %s\n", i, strerror(-samples[i].error));
        return failed;
}

static void report(uint64_t *lat, size_t n, unsigned clients, unsigned rounds, unsigned failed, unsigned busy,
                   uint64_t wall)
{
        qsort(lat, n, sizeof lat[0], cmp);
#define PCT(p) (lat[MIN(n - 1, (size_t)((double)(p) / 100.0 * (double)n))] / 1000.0)
        printf("exchange benchmark: %u concurrent join requests x %u rounds, %zu answered (%u of them 409: ticket "
               "held), %u failed\n",
               clients, rounds, n, busy, failed);
        printf("latency ms: min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", lat[0] / 1000.0, PCT(50), PCT(90),
               PCT(99), lat[n - 1] / 1000.0);
        printf("throughput: %.0f exchanges/s (wall %.2f s)\n", (double)n / ((double)wall / 1e6), (double)wall / 1e6);
        printf("{\"clients\":%u,\"rounds\":%u,\"failed\":%u,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f}\n",
               clients, rounds, failed, PCT(50), PCT(99), lat[n - 1] / 1000.0);
#undef PCT
}

/* One silent connection of the flood from address a, non-blocking; -1 if it could not be made. */
static int flood_connect(uint16_t port, unsigned a)
{
        struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET, .sin_port = htons(port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

        if (fd < 0)
                return -1;
        src.sin_addr.s_addr = htonl(0x7f010000u | ((a / 250) << 8) | (1 + a % 250)); /* 127.1.x.y */
        dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
            (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS)) {
                close(fd);
                return -1;
        }
        return fd;
}

/* The flood: addrs x conns silent connections, each re-opened as soon as the server closes it. Reports the
 * number of connections it opened on fd when told to stop (SIGTERM), or after FLOOD_MAX_SEC. */
static volatile sig_atomic_t flood_stop;

static void on_flood_term(int sig)
{
        flood_stop = 1;
}

static int flood_main(int fd, uint16_t port, unsigned addrs, unsigned conns)
{
        static struct pollfd p[FLOOD_MAX_ADDRS * FLOOD_MAX_CONNS];
        unsigned n = addrs * conns, up = 0;
        uint64_t opened = 0, end = now_usec() + FLOOD_MAX_SEC * 1000000ULL;
        char c;

        signal(SIGTERM, on_flood_term);
        for (unsigned i = 0; i < n; i++) {
                p[i] = (struct pollfd){.fd = flood_connect(port, i / conns), .events = POLLIN};
                opened += p[i].fd >= 0;
        }
        /* Up: the parent starts its clients. */
        if (write(fd, &up, sizeof up) != sizeof up)
                return 1;
        while (!flood_stop && now_usec() < end) {
                if (poll(p, n, 100) < 0 && errno != EINTR)
                        return 1;
                for (unsigned i = 0; i < n; i++) {
                        if (p[i].fd >= 0 && !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        if (p[i].fd >= 0 && recv(p[i].fd, &c, 1, MSG_DONTWAIT) > 0)
                                continue; /* the server said something: it will close */
                        if (p[i].fd >= 0)
                                close(p[i].fd);
                        p[i].fd = flood_connect(port, i / conns);
                        opened += p[i].fd >= 0;
                }
        }
        if (write(fd, &opened, sizeof opened) != sizeof opened)
                return 1;
        return 0;
}

/* Forks the flood; returns once its connections are open. *ret_fd: where it reports at the end. */
static int spawn_flood(uint16_t port, unsigned addrs, unsigned conns, pid_t *ret_pid, int *ret_fd)
{
        unsigned up;
        int fds[2];
        pid_t pid;

        if (pipe(fds) < 0)
                return -errno;
        pid = fork();
        if (pid == 0) {
                close(fds[0]);
                _exit(flood_main(fds[1], port, addrs, conns));
        }
        close(fds[1]);
        if (pid < 0 || read(fds[0], &up, sizeof up) != sizeof up) {
                close(fds[0]);
                return -EIO;
        }
        *ret_pid = pid;
        *ret_fd = fds[0];
        return 0;
}

static void flood_end(pid_t pid, int fd)
{
        uint64_t opened = 0;

        kill(pid, SIGTERM);
        if (read(fd, &opened, sizeof opened) == sizeof opened)
                printf("flood: %" PRIu64 " connections opened in all\n", opened);
        close(fd);
        (void)waitpid(pid, NULL, 0);
}

typedef struct Options {
        unsigned clients, rounds, delay_ms;
        unsigned flood_addrs, flood_conns;
        ExchangeQuery query;
} Options;

static int parse(int argc, char **argv, Options *o)
{
        static const struct option options[] = {
                {"clients", required_argument, NULL, 'c'},  {"rounds", required_argument, NULL, 'r'},
                {"delay-ms", required_argument, NULL, 'd'}, {"control-plane", no_argument, NULL, 'p'},
                {"flood", required_argument, NULL, 'f'},    {},
        };
        int opt;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 'c':
                        o->clients = (unsigned)atoi(optarg);
                        break;
                case 'r':
                        o->rounds = (unsigned)atoi(optarg);
                        break;
                case 'd':
                        o->delay_ms = (unsigned)atoi(optarg);
                        break;
                case 'p':
                        /* Serialised by the ticket: the first holds it, the others get 409 at once. */
                        o->query.role = EXCHANGE_ROLE_CONTROL_PLANE;
                        break;
                case 'f':
                        if (sscanf(optarg, "%u:%u", &o->flood_addrs, &o->flood_conns) != 2 || o->flood_addrs == 0 ||
                            o->flood_addrs > FLOOD_MAX_ADDRS || o->flood_conns == 0 || o->flood_conns > FLOOD_MAX_CONNS)
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        return o->clients == 0 || o->clients > MAXC || o->rounds == 0 ? -EINVAL : 0;
}

/* Forks the server; returns its pid and port. */
static int spawn_server(unsigned delay_ms, pid_t *ret_pid, uint16_t *ret_port)
{
        int fds[2];
        pid_t pid = -1;

        if (pipe(fds) < 0)
                return -errno;
        pid = fork();
        if (pid == 0) {
                close(fds[0]);
                _exit(server_main(fds[1], delay_ms));
        }
        close(fds[1]);
        if (pid < 0 || read(fds[0], ret_port, sizeof *ret_port) != sizeof *ret_port) {
                close(fds[0]);
                return -EIO;
        }
        close(fds[0]);
        *ret_pid = pid;
        return 0;
}

int main(int argc, char **argv)
{
        Options o = {.clients = 100, .rounds = 5, .query = {.op = EXCHANGE_OP_JOIN, .role = EXCHANGE_ROLE_WORKER}};
        unsigned failed = 0, busy = 0;
        ExchangeClient *c[MAXC];
        static Sample samples[MAXC];
        uint64_t *lat, wall;
        size_t n = 0;
        uint16_t port;
        sd_event *e = NULL;
        pid_t pid = -1, flood_pid = -1;
        int flood_fd = -1;

        if (parse(argc, argv, &o) < 0)
                return 2;
        log_set_max_level(LOG_WARNING);
        if (spawn_server(o.delay_ms, &pid, &port) < 0 || sd_event_new(&e) < 0)
                return 1;
        for (unsigned i = 0; i < o.clients; i++) {
                char node[32], source[32];
                snprintf(node, sizeof node, "worker-%u", i);
                snprintf(source, sizeof source, "127.0.%u.%u", 2 + i / 250, 1 + i % 250);
                if (exchange_client_new(e, SECRET, node, &(ExchangeClientOptions){.source_address = source}, &c[i]) < 0)
                        return 1;
        }
        lat = calloc((size_t)o.clients * o.rounds, sizeof *lat);
        if (!lat)
                return 1;
        if (o.flood_addrs > 0) {
                if (spawn_flood(port, o.flood_addrs, o.flood_conns, &flood_pid, &flood_fd) < 0)
                        return 1;
                printf("flood: %u addresses x %u silent connections\n", o.flood_addrs, o.flood_conns);
                usleep(500 * 1000); /* the server's table fills */
        }
        wall = now_usec();
        for (unsigned r = 0; r < o.rounds; r++) {
                failed += round_run(e, c, o.clients, port, o.query, samples, &busy);
                for (unsigned i = 0; i < o.clients; i++)
                        if (samples[i].error == 0 || samples[i].error == -EBUSY)
                                lat[n++] = samples[i].end - samples[i].start;
        }
        wall = now_usec() - wall;
        if (flood_pid > 0)
                flood_end(flood_pid, flood_fd);
        if (n > 0)
                report(lat, n, o.clients, o.rounds, failed, busy, wall);

        for (unsigned i = 0; i < o.clients; i++)
                exchange_client_free(c[i]);
        sd_event_unref(e);
        free(lat);
        kill(pid, SIGTERM);
        (void)waitpid(pid, NULL, 0);
        return failed > 0 ? 1 : 0;
}
