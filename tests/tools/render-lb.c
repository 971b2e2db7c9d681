/* SPDX-License-Identifier: MIT */

/* render-lb: test-only front end to the agent's load-balancer renderers (agent/lb/lb-conf.c). It prints
 * keepalived.conf or haproxy.cfg exactly as the agent renders them, from command-line parameters, so that the
 * cluster benchmarks can run real keepalived and HAProxy with the agent's files before the agent does it
 * itself.
 *
 *   render-lb keepalived --router-id lb1 --interface eth0 --self 10.77.0.10 --vip 10.77.0.240/24
 *                        (--secret S | --vrid N) (--priority N | --self-id ID --lb-id ID...)
 *                        [--peer ADDR]... [--advert-ms 250] [--notify /path]
 *   render-lb haproxy    --api-port 9000 --backend NAME=ADDR... [--ca-file /path]
 *   render-lb dropin     --vip 10.77.0.240/24 --interface eth0
 *   render-lb vrid       --secret S
 *   render-lb priority   --self-id ID --lb-id ID...
 *
 * Output on stdout, or into --output FILE. Exit 0; 1 when the renderer refuses the parameters (-EINVAL);
 * 2 for a usage error. */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb-conf.h"
#include "macro.h"
#include "net-util.h"

#define MAX_LIST 64

static const char *program = "render-lb";

static void usage(FILE *f)
{
        fprintf(f,
                "Usage:\n"
                "  %1$s keepalived --router-id NAME --interface IFACE --self ADDR --vip ADDR/PREFIX\n"
                "               (--secret S | --vrid N) (--priority N | --self-id ID --lb-id ID...)\n"
                "               [--peer ADDR]... [--advert-ms MS] [--notify /PATH] [--output FILE]\n"
                "  %1$s haproxy --api-port PORT [--backend NAME=ADDR]... [--ca-file /PATH] [--output FILE]\n"
                "  %1$s dropin --vip ADDR/PREFIX --interface IFACE [--output FILE]\n"
                "  %1$s vrid --secret S\n"
                "  %1$s priority --self-id ID --lb-id ID...\n"
                "\n"
                "Renders with the agent's own renderers (agent/lb/lb-conf.c). --lb-id lists the LB ids the\n"
                "priority is ranked among (self may be included). The drop-in is a copy of agent/lb/lb.c's\n"
                "render_dropin() (static there).\n",
                program);
}

static int die_usage(const char *fmt, ...) _printf_(1, 2);
static int die_usage(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", program);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        usage(stderr);
        return 2;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
        char *end;
        unsigned long v;

        if (!s || !*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_addr(const char *s, struct in_addr *ret)
{
        return inet_pton(AF_INET, s, ret) == 1 ? 0 : -EINVAL;
}

static int emit(const char *text, const char *output)
{
        FILE *f = stdout;

        if (output) {
                f = fopen(output, "we");
                if (!f) {
                        fprintf(stderr, "%s: cannot open %s: %s\n", program, output, strerror(errno));
                        return 1;
                }
        }
        fputs(text, f);
        if (f == stdout ? fflush(f) != 0 : fclose(f) != 0) {
                fprintf(stderr, "%s: write failed: %s\n", program, strerror(errno));
                return 1;
        }
        return 0;
}

/* A copy of render_dropin() in agent/lb/lb.c (static there): the keepalived unit drop-in the agent installs. */
static int render_dropin(const Ipv4Cidr *vip, const char *interface, char **ret)
{
        char a[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &vip->addr, a, sizeof a);
        return asprintf(ret,
                        "# Written by piagent.\n"
                        "[Unit]\n"
                        "After=haproxy.service\n\n"
                        "[Service]\n"
                        "Restart=always\n"
                        "RestartSec=1s\n"
                        "# A killed keepalived cannot remove the VIP itself: without this it stays here as a\n"
                        "# duplicate of the VIP the other LB takes over.\n"
                        "ExecStopPost=-/sbin/ip -4 addr del %s/32 dev %s\n",
                        a, interface) < 0
                       ? -ENOMEM
                       : 0;
}

enum {
        OPT_ROUTER_ID = 0x100,
        OPT_INTERFACE,
        OPT_SELF,
        OPT_VIP,
        OPT_SECRET,
        OPT_VRID,
        OPT_PRIORITY,
        OPT_SELF_ID,
        OPT_LB_ID,
        OPT_PEER,
        OPT_ADVERT_MS,
        OPT_NOTIFY,
        OPT_API_PORT,
        OPT_BACKEND,
        OPT_CA_FILE,
        OPT_OUTPUT,
        OPT_HELP,
};

static const struct option options[] = {
        {"router-id", required_argument, NULL, OPT_ROUTER_ID},
        {"interface", required_argument, NULL, OPT_INTERFACE},
        {"self", required_argument, NULL, OPT_SELF},
        {"vip", required_argument, NULL, OPT_VIP},
        {"secret", required_argument, NULL, OPT_SECRET},
        {"vrid", required_argument, NULL, OPT_VRID},
        {"priority", required_argument, NULL, OPT_PRIORITY},
        {"self-id", required_argument, NULL, OPT_SELF_ID},
        {"lb-id", required_argument, NULL, OPT_LB_ID},
        {"peer", required_argument, NULL, OPT_PEER},
        {"advert-ms", required_argument, NULL, OPT_ADVERT_MS},
        {"notify", required_argument, NULL, OPT_NOTIFY},
        {"api-port", required_argument, NULL, OPT_API_PORT},
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"ca-file", required_argument, NULL, OPT_CA_FILE},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"help", no_argument, NULL, OPT_HELP},
        {},
};

int main(int argc, char **argv)
{
        const char *cmd, *router_id = NULL, *interface = NULL, *secret = NULL, *self_id = NULL, *notify = NULL,
                         *ca_file = NULL, *output = NULL;
        const char *lb_ids[MAX_LIST];
        struct in_addr peers[MAX_LIST], self = {0};
        LbBackend backends[MAX_LIST] = {};
        char *backend_names[MAX_LIST];
        size_t n_lb_ids = 0, n_peers = 0, n_backends = 0;
        bool have_self = false, have_vip = false, have_vrid = false, have_priority = false;
        unsigned long vrid = 0, priority = 0, advert_ms = 250, api_port = 0;
        Ipv4Cidr vip = {};
        char *text = NULL;
        int r, c, ret;

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        cmd = argv[1];
        /* getopt sees the arguments after the verb. */
        argv[1] = argv[0];
        argc--;
        argv++;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case OPT_ROUTER_ID:
                        router_id = optarg;
                        break;
                case OPT_INTERFACE:
                        interface = optarg;
                        break;
                case OPT_SELF:
                        if (parse_addr(optarg, &self) < 0)
                                return die_usage("bad --self address '%s'", optarg);
                        have_self = true;
                        break;
                case OPT_VIP:
                        if (ipv4_cidr_parse(optarg, &vip) < 0)
                                return die_usage("bad --vip '%s' (ADDR/PREFIX)", optarg);
                        have_vip = true;
                        break;
                case OPT_SECRET:
                        secret = optarg;
                        break;
                case OPT_VRID:
                        if (parse_uint(optarg, 255, &vrid) < 0 || vrid == 0)
                                return die_usage("bad --vrid '%s' (1-255)", optarg);
                        have_vrid = true;
                        break;
                case OPT_PRIORITY:
                        if (parse_uint(optarg, 255, &priority) < 0)
                                return die_usage("bad --priority '%s'", optarg);
                        have_priority = true;
                        break;
                case OPT_SELF_ID:
                        self_id = optarg;
                        break;
                case OPT_LB_ID:
                        if (n_lb_ids >= MAX_LIST)
                                return die_usage("too many --lb-id (%s)", optarg);
                        lb_ids[n_lb_ids++] = optarg;
                        break;
                case OPT_PEER:
                        if (n_peers >= MAX_LIST)
                                return die_usage("too many --peer (%s)", optarg);
                        if (parse_addr(optarg, &peers[n_peers]) < 0)
                                return die_usage("bad --peer address '%s'", optarg);
                        n_peers++;
                        break;
                case OPT_ADVERT_MS:
                        if (parse_uint(optarg, 100000, &advert_ms) < 0)
                                return die_usage("bad --advert-ms '%s'", optarg);
                        break;
                case OPT_NOTIFY:
                        notify = optarg;
                        break;
                case OPT_API_PORT:
                        if (parse_uint(optarg, 65535, &api_port) < 0)
                                return die_usage("bad --api-port '%s'", optarg);
                        break;
                case OPT_BACKEND: {
                        const char *eq = strchr(optarg, '=');
                        if (n_backends >= MAX_LIST)
                                return die_usage("too many --backend (%s)", optarg);
                        if (!eq)
                                return die_usage("bad --backend '%s' (NAME=ADDR)", optarg);
                        backend_names[n_backends] = strndup(optarg, (size_t)(eq - optarg));
                        if (!backend_names[n_backends])
                                return 1;
                        if (parse_addr(eq + 1, &backends[n_backends].addr) < 0)
                                return die_usage("bad --backend address in '%s'", optarg);
                        backends[n_backends].name = backend_names[n_backends];
                        n_backends++;
                        break;
                }
                case OPT_CA_FILE:
                        ca_file = optarg;
                        break;
                case OPT_OUTPUT:
                        output = optarg;
                        break;
                case OPT_HELP:
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc)
                return die_usage("unexpected argument '%s'", argv[optind]);

        if (streq(cmd, "vrid")) {
                uint8_t v;
                if (!secret)
                        return die_usage("%s needs --secret", cmd);
                r = lb_vrid(secret, &v);
                if (r < 0) {
                        fprintf(stderr, "%s: lb_vrid: %s\n", program, strerror(-r));
                        return 1;
                }
                printf("%u\n", v);
                return 0;
        }
        if (streq(cmd, "priority")) {
                if (!self_id || n_lb_ids == 0)
                        return die_usage("%s needs --self-id and --lb-id", cmd);
                printf("%u\n", lb_priority(self_id, lb_ids, n_lb_ids));
                return 0;
        }

        if (streq(cmd, "keepalived")) {
                if (!router_id || !interface || !have_self || !have_vip)
                        return die_usage("%s needs --router-id, --interface, --self and --vip", cmd);
                if (!have_vrid) {
                        uint8_t v;
                        if (!secret)
                                return die_usage("%s needs --secret or --vrid", cmd);
                        r = lb_vrid(secret, &v);
                        if (r < 0) {
                                fprintf(stderr, "%s: lb_vrid: %s\n", program, strerror(-r));
                                return 1;
                        }
                        vrid = v;
                }
                if (!have_priority) {
                        if (!self_id || n_lb_ids == 0)
                                return die_usage("%s needs --priority or --self-id with --lb-id", cmd);
                        priority = lb_priority(self_id, lb_ids, n_lb_ids);
                }
                KeepalivedParams kp = {
                        .router_id = router_id,
                        .interface = interface,
                        .self = self,
                        .vip = vip,
                        .vrid = (uint8_t)vrid,
                        .priority = (unsigned)priority,
                        .peers = peers,
                        .n_peers = n_peers,
                        .advert_ms = (unsigned)advert_ms,
                        .notify_script = notify,
                };
                r = keepalived_conf_render(&kp, &text);
        } else if (streq(cmd, "haproxy")) {
                if (api_port == 0)
                        return die_usage("%s needs --api-port", cmd);
                HaproxyParams hp = {
                        .api_port = (uint16_t)api_port,
                        .backends = backends,
                        .n_backends = n_backends,
                        .ca_file = ca_file,
                };
                r = haproxy_conf_render(&hp, &text);
        } else if (streq(cmd, "dropin")) {
                if (!have_vip || !interface)
                        return die_usage("%s needs --vip and --interface", cmd);
                r = render_dropin(&vip, interface, &text);
        } else
                return die_usage("unknown verb '%s'", cmd);

        if (r < 0) {
                fprintf(stderr, "%s: the %s renderer refused these parameters: %s\n", program, cmd, strerror(-r));
                return 1;
        }
        ret = emit(text, output);
        free(text);
        for (size_t i = 0; i < n_backends; i++)
                free(backend_names[i]);
        return ret;
}
