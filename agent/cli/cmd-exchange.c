/* SPDX-License-Identifier: MIT */
/* piagent exchange: the token exchange by hand, for testing a cluster: ask a server for an operation, read a
 * server's status. The secret and the port come from the boot files. A server with fake join material for
 * such tests is tests/tools/exchange-test-server (test-only code stays out of the daemon). */

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "config-load.h"
#include "exchange-client.h"
#include "exchange-link.h"
#include "ipc-link.h"
#include "log.h"
#include "notify.h"
#include "secret.h"

#define EXCHANGE_SOCKET_DEFAULT "/run/piagent/exchange.sock"

typedef struct Args {
        const char *boot_dir;
        const char *node;
        unsigned port;
        ExchangeQuery query;
        bool show_secrets;
        const char *socket; /* worker: where the root daemon listens */
} Args;

static void help(void)
{
        printf("Usage: piagent exchange request ADDRESS join|vote|ca|joined|ready [OPTIONS]\n"
               "       piagent exchange status ADDRESS [OPTIONS]\n"
               "       piagent exchange worker [--socket PATH]\n"
               "\n"
               "The token exchange by hand (docs/exchange.md). The cluster secret and the exchange port come\n"
               "from cluster.txt; the node id defaults to the host name.\n"
               "\n"
               "  --boot-dir DIR        where role.txt and cluster.txt are\n"
               "  --port N              the exchange port (default: exchange_port from cluster.txt)\n"
               "  --node ID             this node's id\n"
               "  --role ROLE           request join/joined: worker or control-plane (default: worker)\n"
               "  --result ok|failed    request joined: the result to report (default: ok)\n"
               "  --show-secrets        request: print the token and certificate key, not their fingerprints\n"
               "  --socket PATH         worker: the root daemon's socket (default: " EXCHANGE_SOCKET_DEFAULT ")\n"
               "\n"
               "worker is what piagent-exchange.service runs on a master: the network-facing half of the\n"
               "exchange, unprivileged, told where to listen by the daemon and forwarding to it (docs/security.md).\n"
               "  -h, --help            show this help\n");
}

static int parse_args(int argc, char **argv, Args *a)
{
        static const struct option options[] = {
                {"boot-dir", required_argument, NULL, 'b'},
                {"port", required_argument, NULL, 'p'},
                {"node", required_argument, NULL, 'n'},
                {"role", required_argument, NULL, 'r'},
                {"result", required_argument, NULL, 'R'},
                {"show-secrets", no_argument, NULL, 's'},
                {"socket", required_argument, NULL, 'S'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int opt;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'b':
                        a->boot_dir = optarg;
                        break;
                case 'p':
                        if (sscanf(optarg, "%u", &a->port) != 1 || a->port == 0 || a->port > 65535)
                                return log_error_errno(-EINVAL, "Invalid port '%s'", optarg);
                        break;
                case 'n':
                        if (!exchange_node_valid(optarg))
                                return log_error_errno(-EINVAL, "Invalid node id '%s'", optarg);
                        a->node = optarg;
                        break;
                case 'r':
                        a->query.role = exchange_role_from_string(optarg);
                        if (a->query.role <= EXCHANGE_ROLE_NONE)
                                return log_error_errno(-EINVAL, "Invalid role '%s': worker or control-plane", optarg);
                        break;
                case 'R':
                        a->query.result = exchange_result_from_string(optarg);
                        if (a->query.result <= EXCHANGE_RESULT_NONE)
                                return log_error_errno(-EINVAL, "Invalid result '%s': ok or failed", optarg);
                        break;
                case 's':
                        a->show_secrets = true;
                        break;
                case 'S':
                        a->socket = optarg;
                        break;
                case 'h':
                        help();
                        return 1;
                default:
                        return -EINVAL;
                }
        return 0;
}

/* Secret and port from the boot files; the caller frees the Config. */
static int load(Args *a, Config **ret)
{
        const char *dir = boot_dir_resolve(a->boot_dir);
        DiagList diags = {};
        int r;

        r = config_load(dir, &diags, ret);
        diag_list_clear(&diags);
        if (r < 0)
                return log_error_errno(r, "%s/role.txt and cluster.txt are not valid, 'piagent check' says why", dir);
        if (a->port == 0)
                a->port = (*ret)->exchange_port;
        return 0;
}

static const char *default_node(char buf[static EXCHANGE_NODE_MAX + 1])
{
        if (gethostname(buf, EXCHANGE_NODE_MAX + 1) < 0 || !exchange_node_valid(buf))
                strcpy(buf, "piagent-cli");
        buf[EXCHANGE_NODE_MAX] = 0;
        return buf;
}

typedef struct Outcome {
        sd_event *event;
        const Args *args;
        int error;
} Outcome;

static void print_secret(const char *name, const char *value, bool show)
{
        char fp[SECRET_FINGERPRINT_SIZE];

        if (!value)
                return;
        if (show)
                printf("%s: %s\n", name, value);
        else if (secret_fingerprint(value, fp) >= 0)
                printf("%s: (fingerprint %s; --show-secrets prints it)\n", name, fp);
}

static void on_answer(void *userdata, int error, const ExchangeAnswer *answer)
{
        Outcome *o = userdata;

        o->error = error;
        (void)sd_event_exit(o->event, 0);
        if (error < 0)
                return;
        printf("server: %s\n", answer->server);
        switch (answer->op) {
        case EXCHANGE_OP_JOIN:
                printf("endpoint: %s\nca_cert_hash: %s\n", answer->join.endpoint, answer->join.ca_cert_hash);
                print_secret("token", answer->join.token, o->args->show_secrets);
                print_secret("certificate_key", answer->join.certificate_key, o->args->show_secrets);
                break;
        case EXCHANGE_OP_VOTE:
                printf("vote: %s\n", answer->granted ? "granted" : "refused");
                break;
        case EXCHANGE_OP_CA:
                fputs(answer->ca, stdout);
                break;
        case EXCHANGE_OP_JOINED:
                printf("joined: acknowledged\n");
                break;
        case EXCHANGE_OP_KUBECONFIG:
                print_secret("kubeconfig", answer->kubeconfig, o->args->show_secrets);
                break;
        case EXCHANGE_OP_READY:
                printf("ready: yes\n");
                break;
        case _EXCHANGE_OP_MAX:
        case _EXCHANGE_OP_INVALID:
                break;
        }
}

static void on_status(void *userdata, int error, const ExchangeStatus *st)
{
        Outcome *o = userdata;

        o->error = error;
        (void)sd_event_exit(o->event, 0);
        if (error >= 0)
                printf("node: %s\nrole: %s\nphase: %s\nversion: %s\n", st->node, st->role, st->phase, st->version);
}

/* What the errors of exchange-client.h mean to a person. */
static const char *hint(int error)
{
        switch (error) {
        case -EACCES:
                return " (the server did not accept our proof: is cluster.txt's secret the same on both nodes?)";
        case -EBADMSG:
                return " (the answer is not authentic: that server does not know this cluster's secret)";
        case -EBUSY:
                return " (another node is joining the control plane; try again when it is done)";
        case -EAGAIN:
                return " (the server is not ready, or turned us away after failures; try again later)";
        case -EOPNOTSUPP:
                return " (that server does not serve this operation)";
        default:
                return "";
        }
}

static int request(Args *a, const char *address, const char *op)
{
        _cleanup_config_ Config *c = NULL;
        ExchangeClient *client = NULL;
        char node[EXCHANGE_NODE_MAX + 1];
        Outcome o = {.args = a};
        int r;

        r = load(a, &c);
        if (r < 0)
                return r;
        if (op) {
                a->query.op = exchange_op_from_string(op);
                if (a->query.op < 0)
                        return log_error_errno(-EINVAL, "Unknown operation '%s': join, vote, ca, joined or ready", op);
                if (a->query.role == EXCHANGE_ROLE_NONE &&
                    (a->query.op == EXCHANGE_OP_JOIN || a->query.op == EXCHANGE_OP_JOINED))
                        a->query.role = EXCHANGE_ROLE_WORKER;
                if (a->query.result == EXCHANGE_RESULT_NONE && a->query.op == EXCHANGE_OP_JOINED)
                        a->query.result = EXCHANGE_RESULT_OK;
        }
        r = sd_event_new(&o.event);
        if (r >= 0)
                r = exchange_client_new(o.event, c->secret, a->node ?: default_node(node), NULL, &client);
        if (r >= 0)
                r = op ? exchange_client_request(client, address, (uint16_t)a->port, &a->query, on_answer, &o, NULL)
                       : exchange_client_status(client, address, (uint16_t)a->port, on_status, &o, NULL);
        if (r >= 0)
                r = sd_event_loop(o.event);
        if (r >= 0)
                r = o.error;
        if (r < 0)
                log_error_errno(r, "%s from %s:%u failed: %m%s", op ?: "status", address, a->port, hint(r));
        exchange_client_free(client);
        sd_event_unref(o.event);
        return r;
}

/* A loop that ends on SIGINT and SIGTERM (systemd stops the worker with SIGTERM). */
static int event_with_signals(sd_event **ret)
{
        sd_event *e = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        r = sd_event_new(&e);
        if (r >= 0)
                r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
        if (r < 0) {
                sd_event_unref(e);
                return r;
        }
        *ret = e;
        return 0;
}

typedef struct Worker {
        sd_event *event;
        ExchangeWorker *w;
        int error;
} Worker;

static void on_worker_event(void *userdata, bool closed, int error, uint16_t port)
{
        Worker *k = userdata;

        if (!closed && error == 0) {
                notify_ready();
                notify_status("Serving the exchange on port %u", port);
                log_info("Serving the exchange on port %u for the daemon", port);
                return;
        }
        if (!closed)
                log_error_errno(error, "Cannot listen: %m");
        else if (error < 0)
                log_error_errno(error, "The link to the daemon broke: %m");
        else
                log_info("The daemon closed the link, exiting");
        k->error = error;
        k->w = exchange_worker_free(k->w);
        (void)sd_event_exit(k->event, 0);
}

/* piagent-exchange.service: unprivileged and sandboxed by its unit; everything comes from the root daemon. */
static int worker(Args *a)
{
        const char *path = a->socket ?: EXCHANGE_SOCKET_DEFAULT;
        Worker k = {};
        int fd = -EBADF, r;

        if (geteuid() == 0)
                log_warning("Running as root: piagent-exchange.service runs this unprivileged (DynamicUser=)");
        /* The daemon listens before it starts us; a few tries cover a restart of both at once. */
        for (int i = 0; i < 50; i++) {
                r = ipc_connect(path, &fd);
                if (r >= 0 || (r != -ENOENT && r != -ECONNREFUSED))
                        break;
                usleep(100 * 1000);
        }
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the daemon at %s: %m", path);
        r = event_with_signals(&k.event);
        if (r >= 0)
                r = exchange_worker_new(k.event, fd, &(ExchangeServerOptions){}, on_worker_event, &k, &k.w);
        else
                close(fd);
        if (r >= 0)
                r = sd_event_loop(k.event);
        if (r >= 0)
                r = k.error;
        else
                log_error_errno(r, "Exchange worker failed: %m");
        exchange_worker_free(k.w);
        sd_event_unref(k.event);
        return r;
}

int cmd_exchange(const Settings *settings, int argc, char **argv)
{
        Args a = {};
        const char *verb;
        int r;

        r = parse_args(argc, argv, &a);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        a.boot_dir = a.boot_dir ?: settings->boot_dir;
        verb = optind < argc ? argv[optind] : NULL;
        if (verb && streq(verb, "request") && optind + 3 == argc)
                r = request(&a, argv[optind + 1], argv[optind + 2]);
        else if (verb && streq(verb, "status") && optind + 2 == argc)
                r = request(&a, argv[optind + 1], NULL);
        else if (verb && streq(verb, "worker") && optind + 1 == argc)
                r = worker(&a);
        else {
                fprintf(stderr,
                        "piagent exchange: expected request ADDRESS OP, status ADDRESS or worker; see --help\n");
                return EXIT_USAGE;
        }
        return r < 0 ? 1 : 0;
}
