/* SPDX-License-Identifier: MIT */
/* piagent kubeconfig: the cluster's admin kubeconfig from a ready master, over the exchange (authenticated with
 * the cluster secret from cluster.txt, sealed like join material), written with mode 0600. For a person with a
 * card's boot files on a laptop: kubectl from there. */

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config-load.h"
#include "exchange-client.h"
#include "fileio.h"
#include "log.h"
#include "secret.h"

typedef struct Args {
        const char *boot_dir;
        const char *master;
        const char *output;
        unsigned port;
        bool force;
} Args;

typedef struct Outcome {
        sd_event *event;
        const Args *args;
        int error;
        int write_error;
} Outcome;

static void help(void)
{
        printf("Usage: piagent kubeconfig --master HOST [OPTIONS]\n"
               "\n"
               "Fetch the cluster's admin kubeconfig from a ready master over the token exchange, authenticated with\n"
               "the cluster secret of cluster.txt, and write it with mode 0600: kubectl then works from this\n"
               "machine (its server is the VIP). `piagent status` on any node lists the masters.\n"
               "\n"
               "  --master HOST         a master's address or name (e.g. master-1a2b3c.local)\n"
               "  --boot-dir DIR        where role.txt and cluster.txt are (e.g. a card's boot partition)\n"
               "  --port N              the exchange port (default: exchange_port from cluster.txt)\n"
               "  -o, --output FILE     where to write it (default: admin.conf)\n"
               "  --force               replace an existing FILE\n"
               "  -h, --help            show this help\n");
}

static int parse_args(int argc, char **argv, Args *a)
{
        static const struct option options[] = {
                {"master", required_argument, NULL, 'm'},
                {"boot-dir", required_argument, NULL, 'b'},
                {"port", required_argument, NULL, 'p'},
                {"output", required_argument, NULL, 'o'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int opt;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) >= 0)
                switch (opt) {
                case 'm':
                        a->master = optarg;
                        break;
                case 'b':
                        a->boot_dir = optarg;
                        break;
                case 'p':
                        if (sscanf(optarg, "%u", &a->port) != 1 || a->port == 0 || a->port > 65535)
                                return log_error_errno(-EINVAL, "Invalid port '%s'", optarg);
                        break;
                case 'o':
                        a->output = optarg;
                        break;
                case 'f':
                        a->force = true;
                        break;
                case 'h':
                        help();
                        return 1;
                default:
                        return -EINVAL;
                }
        if (optind != argc)
                return log_error_errno(-EINVAL, "Unexpected argument '%s'; see --help", argv[optind]);
        if (!a->master)
                return log_error_errno(-EINVAL, "--master HOST is required: a master's address or name; "
                                                "'piagent status' on any node lists them");
        return 0;
}

/* What the exchange's errors mean here, with what to do. */
static const char *hint(int error)
{
        switch (error) {
        case -EACCES:
        case -EBADMSG:
                return "the master did not accept this cluster.txt's secret: it belongs to another cluster, or the "
                       "secret differs from the cluster's (copy cluster.txt from one of its cards)";
        case -EAGAIN:
                return "that master is not ready yet (its kubeadm init or join has not completed); try again later, "
                       "or ask another master";
        case -EOPNOTSUPP:
                return "that node serves no kubeconfig: it is not a master (a load balancer or a worker?)";
        default:
                return "is it a master of this cluster, powered on and reachable? ('piagent status' on any node lists "
                       "the masters)";
        }
}

static void on_answer(void *userdata, int error, const ExchangeAnswer *answer)
{
        Outcome *o = userdata;
        const char *path = o->args->output;

        o->error = error;
        (void)sd_event_exit(o->event, 0);
        if (error < 0)
                return;
        /* 0600 from the start: it holds the cluster-admin key. */
        o->write_error = write_file_atomic(path, answer->kubeconfig, strlen(answer->kubeconfig), 0600);
}

int cmd_kubeconfig(const Settings *settings, int argc, char **argv)
{
        _cleanup_config_ Config *c = NULL;
        ExchangeClient *client = NULL;
        DiagList diags = {};
        Args a = {.output = "admin.conf"};
        Outcome o = {.args = &a};
        char node[EXCHANGE_NODE_MAX + 1];
        const char *dir;
        int r;

        r = parse_args(argc, argv, &a);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        dir = boot_dir_resolve(a.boot_dir ?: settings->boot_dir);
        r = config_load(dir, &diags, &c);
        diag_list_clear(&diags);
        if (r < 0) {
                log_error_errno(r, "%s/role.txt and cluster.txt are not valid, 'piagent check --boot-dir %s' says why",
                                dir, dir);
                return 1;
        }
        if (!a.force && access(a.output, F_OK) == 0) {
                log_error("%s exists already: not replacing it (--force replaces it, or -o names another file)",
                          a.output);
                return 1;
        }
        if (gethostname(node, sizeof node) < 0 || !exchange_node_valid(node))
                snprintf(node, sizeof node, "piagent-cli");
        ExchangeQuery q = {.op = EXCHANGE_OP_KUBECONFIG};
        r = sd_event_new(&o.event);
        if (r >= 0)
                r = exchange_client_new(o.event, c->secret, node, NULL, &client);
        if (r >= 0)
                r = exchange_client_request(client, a.master, (uint16_t)(a.port ?: c->exchange_port), &q, on_answer, &o,
                                            NULL);
        if (r >= 0)
                r = sd_event_loop(o.event);
        if (r >= 0)
                r = o.error;
        exchange_client_free(client);
        sd_event_unref(o.event);
        if (r < 0) {
                log_error_errno(r, "No kubeconfig from %s:%u (%m): %s", a.master, a.port ?: c->exchange_port, hint(r));
                return 1;
        }
        if (o.write_error < 0) {
                log_error_errno(o.write_error, "Cannot write %s: %m", a.output);
                return 1;
        }
        printf("Wrote %s (mode 0600): the cluster's admin credentials. Use it with\n"
               "  kubectl --kubeconfig %s get nodes\n",
               a.output, a.output);
        return 0;
}
