/* SPDX-License-Identifier: MIT */

#include <getopt.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "commands.h"
#include "status-json.h"
#include "status-server.h"

#define EXIT_NOT_RUNNING 3 /* as LSB's "program is not running" */
#define READ_TIMEOUT_SEC 5

static void help(void)
{
        printf("Usage: piagent status [--json] [--socket PATH]\n"
               "\n"
               "Print the cluster as this node's agent sees it: this node, then every peer it has discovered\n"
               "(id, host name, role, phase, address, last seen). Asks the running agent over its status socket.\n"
               "Exit status 3 if the agent is not running.\n"
               "\n"
               "  --json          print the agent's JSON document as it is (docs/discovery.md)\n"
               "  --socket PATH   the status socket (default: $PIAGENT_STATUS_SOCKET or " STATUS_SOCKET_DEFAULT ")\n"
               "  -h, --help      show this help\n");
}

/* Connects and reads the whole document. Returns 0, or a negative errno (connect's own for "not running"). */
static int fetch(const char *path, char **ret, size_t *ret_size)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = READ_TIMEOUT_SEC};
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return -errno;

        buf = malloc(STATUS_JSON_MAX + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + size, STATUS_JSON_MAX + 1 - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? -ETIMEDOUT : -errno;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
                if (size > STATUS_JSON_MAX)
                        return -E2BIG;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static int report_fetch_error(const char *path, int r)
{
        switch (-r) {
        case ENOENT:
        case ECONNREFUSED:
                fprintf(stderr,
                        "piagent status: the agent is not running (nothing listens on %s).\n"
                        "Start it with 'systemctl start piagent'; 'journalctl -u piagent' tells why it stopped.\n",
                        path);
                return EXIT_NOT_RUNNING;
        case EACCES:
                fprintf(stderr, "piagent status: no permission to connect to %s\n", path);
                return 1;
        default:
                fprintf(stderr, "piagent status: failed to read the status from %s: %s\n", path, strerror(-r));
                return 1;
        }
}

int cmd_status(const Settings *settings, int argc, char **argv)
{
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"socket", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *text = NULL;
        const char *path = NULL;
        char buf[256];
        bool json = false;
        size_t size = 0;
        int opt, r;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "js:h", options, NULL)) >= 0)
                switch (opt) {
                case 'j':
                        json = true;
                        break;
                case 's':
                        path = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "piagent status: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        path = path ?: status_socket_path(settings->status_socket, NULL, buf, sizeof buf);
        r = fetch(path, &text, &size);
        if (r < 0)
                return report_fetch_error(path, r);
        if (json) {
                printf("%s\n", text);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        r = status_print_table(text, size, stdout);
        if (r < 0) {
                fprintf(stderr, "piagent status: the agent sent something that is not a status document (%s)\n",
                        strerror(-r));
                return 1;
        }
        return 0;
}
