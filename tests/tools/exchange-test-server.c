/* SPDX-License-Identifier: MIT */

/* exchange-test-server: an exchange server with the test provider (tests/lib/exchange-test-provider.h), for trying
 * `piagent exchange request|status` by hand or from a script: fake but well-formed join material, the first
 * candidate gets the vote. The secret and the port come from cluster.txt, as for the agent. Test-only: it is
 * not part of the piagent binary. */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config-load.h"
#include "exchange-server.h"
#include "exchange-test-provider.h"
#include "log.h"
#include "secret.h"
#include "settings.h"

typedef struct Options {
        const char *boot_dir, *address, *node;
        unsigned port, delay_ms;
} Options;

static void usage(FILE *f, const char *program)
{
        fprintf(f,
                "Usage: %s [--boot-dir DIR] [--port N] [--address ADDR] [--node ID] [--delay MS]\n"
                "\n"
                "Serves the token exchange with fake join material until SIGINT or SIGTERM.\n"
                "  --boot-dir DIR   role.txt and cluster.txt (the secret, exchange_port); default /boot/firmware\n"
                "  --port N         listen on N instead of exchange_port\n"
                "  --address ADDR   the IPv4 address to listen on (default: any)\n"
                "  --node ID        the node id this server answers as (default: test-server)\n"
                "  --delay MS       answer after MS milliseconds\n",
                program);
}

static int parse(int argc, char **argv, Options *o)
{
        static const struct option options[] = {
                {"boot-dir", required_argument, NULL, 'b'},
                {"port", required_argument, NULL, 'p'},
                {"address", required_argument, NULL, 'a'},
                {"node", required_argument, NULL, 'n'},
                {"delay", required_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int opt;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                if (opt == 'b')
                        o->boot_dir = optarg;
                else if (opt == 'a')
                        o->address = optarg;
                else if (opt == 'n' && exchange_node_valid(optarg))
                        o->node = optarg;
                else if ((opt == 'p' && sscanf(optarg, "%u", &o->port) == 1 && o->port <= 65535) ||
                         (opt == 'd' && sscanf(optarg, "%u", &o->delay_ms) == 1))
                        continue;
                else {
                        usage(opt == 'h' ? stdout : stderr, argv[0]);
                        return opt == 'h' ? 0 : -EINVAL;
                }
        }
        return 1;
}

int main(int argc, char **argv)
{
        _cleanup_config_ Config *c = NULL;
        Options o = {.node = "test-server"};
        ExchangeTestProvider *p = NULL;
        ExchangeServer *s = NULL;
        char fp[SECRET_FINGERPRINT_SIZE];
        DiagList diags = {};
        sd_event *e = NULL;
        Settings settings;
        sigset_t mask;
        int r;

        /* As the agent: the journal under systemd, PIAGENT_LOG_LEVEL=debug shows protocol detail. */
        if (settings_from_environment(environ, &settings) < 0)
                return 1;
        log_setup(settings.log_target, settings.log_level, settings.journal_stream);
        settings_done(&settings);
        r = parse(argc, argv, &o);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = config_load(boot_dir_resolve(o.boot_dir), &diags, &c);
        diag_list_clear(&diags);
        if (r < 0) {
                fprintf(stderr, "%s: the boot files are not valid ('piagent check' says why)\n", argv[0]);
                return 1;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : sd_event_new(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = exchange_test_provider_new(e, o.node, &p);
        if (r >= 0) {
                p->delay_usec = o.delay_ms * 1000ULL;
                p->role = role_to_string(c->role);
                ExchangeServerOptions so = {.http = {.address = o.address, .port = o.port ?: c->exchange_port}};
                r = exchange_server_new(e, c->secret, &so, &exchange_test_provider_ops, p, &s);
        }
        if (r >= 0 && secret_fingerprint(c->secret, fp) >= 0)
                log_notice("Exchange server with the test provider on port %u (node %s, secret fingerprint %s)",
                           exchange_server_get_port(s), p->node, fp);
        if (r >= 0)
                r = sd_event_loop(e);
        if (r < 0)
                log_error_errno(r, "Exchange test server failed: %m");
        exchange_server_free(s);
        exchange_test_provider_free(p);
        sd_event_unref(e);
        return r < 0 ? 1 : 0;
}
