/* SPDX-License-Identifier: MIT */
/* role.txt / cluster.txt: valid files, every class of error, encodings and limits. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "config.h"
#include "kv.h"
#include "macro.h"
#include "secret.h"

#define SECRET  "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"
#define CLUSTER "cluster=demo\nsecret=" SECRET "\n"

typedef struct Result {
        int r;
        Config *config;
        DiagList diags;
} Result;

static Result *parse(const char *role, const char *cluster)
{
        Result *res = calloc(1, sizeof *res);
        assert_non_null(res);
        res->r = config_parse(role, role ? strlen(role) : 0, cluster, cluster ? strlen(cluster) : 0, &res->diags,
                              &res->config);
        return res;
}

static Result *parse_n(const char *role, size_t role_size, const char *cluster, size_t cluster_size)
{
        Result *res = calloc(1, sizeof *res);
        assert_non_null(res);
        res->r = config_parse(role, role_size, cluster, cluster_size, &res->diags, &res->config);
        return res;
}

static void result_free(Result *res)
{
        config_unref(res->config);
        diag_list_clear(&res->diags);
        free(res);
}

/* The formatted problem number i ("role.txt:3: …"). */
static char *problem(const Result *res, size_t i)
{
        assert_true(i < res->diags.n);
        return diag_format(&res->diags.items[i]);
}

static void assert_ok(const Result *res)
{
        if (res->r != 0)
                for (size_t i = 0; i < res->diags.n; i++) {
                        char *s = problem(res, i);
                        print_error("unexpected problem: %s\n", s);
                        free(s);
                }
        assert_int_equal(res->r, 0);
        assert_non_null(res->config);
        assert_int_equal(diag_count(&res->diags), 0);
}

/* Exactly one problem, equal to expected. */
static void assert_one_problem(const Result *res, const char *expected)
{
        assert_int_equal(res->r, -EINVAL);
        assert_null(res->config);
        if (res->diags.n != 1)
                for (size_t i = 0; i < res->diags.n; i++) {
                        char *s = problem(res, i);
                        print_error("problem %zu: %s\n", i, s);
                        free(s);
                }
        assert_int_equal(res->diags.n, 1);
        char *s = problem(res, 0);
        assert_string_equal(s, expected);
        free(s);
}

/* Exactly one problem that starts with prefix. */
static void assert_one_problem_prefix(const Result *res, const char *prefix)
{
        assert_int_equal(res->r, -EINVAL);
        assert_int_equal(res->diags.n, 1);
        char *s = problem(res, 0);
        if (strncmp(s, prefix, strlen(prefix)) != 0)
                fail_msg("problem '%s' does not start with '%s'", s, prefix);
        free(s);
}

#define CHECK_OK(role, cluster, var)        \
        Result *var = parse(role, cluster); \
        assert_ok(var)

/* ---- valid files ---- */

static void config_parse__reference_files__defaults_of_reference_network(void **state)
{
        char buf[IPV4_CIDR_STRLEN];
        CHECK_OK("role=master\n", CLUSTER, res);
        Config *c = res->config;

        assert_int_equal(c->role, ROLE_MASTER);
        assert_string_equal(c->cluster, "demo");
        assert_string_equal(c->secret, SECRET);
        assert_string_equal(ipv4_cidr_format(&c->vip, buf), "192.168.3.240/24");
        assert_int_equal(c->api_port, 9000);
        assert_int_equal(c->masters, 3);
        assert_string_equal(ipv4_cidr_format(&c->pod_subnet, buf), "10.244.0.0/16");
        assert_string_equal(ipv4_cidr_format(&c->service_subnet, buf), "10.96.0.0/12");
        assert_int_equal(c->cni, CNI_FLANNEL);
        assert_null(c->hostname);
        assert_null(c->interface);
        assert_false(c->init);
        assert_null(c->kubernetes_version);
        assert_null(c->ntp);
        assert_true(c->wait_for_clock);
        assert_null(c->source[CONFIG_VIP].file);
        assert_string_equal(c->source[CONFIG_ROLE].file, ROLE_FILE);
        assert_int_equal(c->source[CONFIG_SECRET].line, 2);
        result_free(res);
}

static void config_parse__every_key_set__values_taken(void **state)
{
        char buf[IPV4_CIDR_STRLEN];
        CHECK_OK("role=master\nhostname=pi-m1\ninterface=end0\ninit=yes\n",
                 "cluster=home\nsecret=" SECRET "\nvip=10.0.0.5/8\napi_port=8443\nexchange_port=7000\nmasters=5\n"
                 "pod_subnet=172.16.0.0/16\nservice_subnet=10.128.0.0/16\nkubernetes_version=1.31.2\ncni=calico\n"
                 "ntp=192.168.1.1, ntp.example.lan  fd00::1\nwait_for_clock=no\n",
                 res);
        Config *c = res->config;

        assert_string_equal(c->hostname, "pi-m1");
        assert_string_equal(c->interface, "end0");
        assert_true(c->init);
        assert_string_equal(c->cluster, "home");
        assert_string_equal(ipv4_cidr_format(&c->vip, buf), "10.0.0.5/8");
        assert_int_equal(c->api_port, 8443);
        assert_int_equal(c->exchange_port, 7000);
        assert_int_equal(c->masters, 5);
        assert_string_equal(ipv4_cidr_format(&c->pod_subnet, buf), "172.16.0.0/16");
        assert_string_equal(ipv4_cidr_format(&c->service_subnet, buf), "10.128.0.0/16");
        assert_string_equal(c->kubernetes_version, "v1.31.2");
        assert_int_equal(c->cni, CNI_CALICO);
        assert_string_equal(c->ntp, "192.168.1.1 ntp.example.lan fd00::1");
        assert_false(c->wait_for_clock);
        result_free(res);
}

static void config_parse__bare_word_role__accepted(void **state)
{
        CHECK_OK("worker\n", CLUSTER, res);
        assert_int_equal(res->config->role, ROLE_WORKER);
        result_free(res);
}

static void config_parse__bare_word_after_comments__accepted(void **state)
{
        CHECK_OK("# Pick one: lb, master, worker\n\n  lb  \n", CLUSTER, res);
        assert_int_equal(res->config->role, ROLE_LB);
        result_free(res);
}

static void config_parse__role_upper_case__accepted(void **state)
{
        CHECK_OK("Role=Master\n", CLUSTER, res);
        assert_int_equal(res->config->role, ROLE_MASTER);
        result_free(res);
}

static void config_parse__utf8_bom__accepted(void **state)
{
        CHECK_OK("\xef\xbb\xbfrole=lb\n", "\xef\xbb\xbf" CLUSTER, res);
        assert_int_equal(res->config->role, ROLE_LB);
        result_free(res);
}

static void config_parse__crlf_line_ends__accepted(void **state)
{
        CHECK_OK("role=worker\r\nhostname=w1\r\n", "cluster=demo\r\nsecret=" SECRET "\r\nmasters=1\r\n", res);
        assert_string_equal(res->config->hostname, "w1");
        assert_string_equal(res->config->secret, SECRET);
        assert_int_equal(res->config->masters, 1);
        result_free(res);
}

static void config_parse__spaces_and_tabs_around_equals__accepted(void **state)
{
        CHECK_OK("  role \t=\t lb  \n", "secret = " SECRET "\n\tapi_port= 9000\n", res);
        assert_int_equal(res->config->role, ROLE_LB);
        result_free(res);
}

static void config_parse__comments_and_blank_lines__ignored(void **state)
{
        CHECK_OK("# role.txt\n\n   # indented comment\nrole=lb\n\n", "# cluster\n\n" CLUSTER "# end\n", res);
        assert_int_equal(res->config->source[CONFIG_ROLE].line, 4);
        result_free(res);
}

static void config_parse__quoted_value__quotes_stripped(void **state)
{
        CHECK_OK("role=\"master\"\nhostname='m1'\n", "secret=\"" SECRET "\"\n", res);
        assert_int_equal(res->config->role, ROLE_MASTER);
        assert_string_equal(res->config->hostname, "m1");
        assert_string_equal(res->config->secret, SECRET);
        result_free(res);
}

static void config_parse__no_trailing_newline__accepted(void **state)
{
        CHECK_OK("role=lb", "secret=" SECRET, res);
        assert_int_equal(res->config->role, ROLE_LB);
        result_free(res);
}

static void config_parse__interface_in_cluster_file__overridden_by_role_file(void **state)
{
        CHECK_OK("role=lb\ninterface=wlan0\n", CLUSTER "interface=eth0\n", res);
        assert_string_equal(res->config->interface, "wlan0");
        assert_string_equal(res->config->source[CONFIG_INTERFACE].file, ROLE_FILE);
        result_free(res);
}

static void config_parse__interface_in_cluster_file_only__used(void **state)
{
        CHECK_OK("role=lb\n", CLUSTER "interface=eth0\n", res);
        assert_string_equal(res->config->interface, "eth0");
        result_free(res);
}

static void config_parse__kubernetes_version_auto__null(void **state)
{
        CHECK_OK("role=lb\n", CLUSTER "kubernetes_version=auto\n", res);
        assert_null(res->config->kubernetes_version);
        result_free(res);
}

static void config_parse__secret_with_symbols__kept_verbatim(void **state)
{
        CHECK_OK("role=lb\n", "secret=a#b=c!d$e%f&g*h(i)j[k]l{m}n<o>p?q~r^s\n", res);
        assert_string_equal(res->config->secret, "a#b=c!d$e%f&g*h(i)j[k]l{m}n<o>p?q~r^s");
        result_free(res);
}

/* ---- unknown, misplaced and duplicate keys ---- */

static void config_parse__misspelt_key__did_you_mean(void **state)
{
        Result *res = parse("role=master\nhostname=m1\nrol=master\n", CLUSTER);
        assert_one_problem(res, "role.txt:3: unknown key 'rol' (did you mean 'role'?)");
        result_free(res);
}

static void config_parse__misspelt_cluster_key__did_you_mean(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "api-port=9000\n");
        assert_one_problem(res, "cluster.txt:3: unknown key 'api-port' (did you mean 'api_port'?)");
        result_free(res);
}

static void config_parse__unrelated_key__no_suggestion(void **state)
{
        Result *res = parse("role=lb\nflavour=vanilla\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: unknown key 'flavour'");
        result_free(res);
}

/* A secret in the wrong place (pasted on a line of its own, base64 with its '=' padding, "secret: ...", as the
 * first line of role.txt) is never quoted back: problems go to the journal and the screen. */
static void config_parse__misplaced_secret__never_echoed(void **state)
{
        Result *res;
        char *s;

        res = parse("role=lb\n", CLUSTER "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0==\n");
        assert_one_problem(res, "cluster.txt:3: unknown key of 36 characters, not shown in case it is part of the "
                                "secret");
        result_free(res);
        res = parse("role=lb\n", CLUSTER "secret: c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0=\n");
        assert_one_problem(res, "cluster.txt:3: invalid key of 44 characters, not shown in case it is part of the "
                                "secret (keys are letters, digits and '_')");
        result_free(res);
        res = parse("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0\n", CLUSTER);
        assert_one_problem(res, "role.txt:1: unknown role (36 characters, not shown in case it is part of the "
                                "secret); the roles are lb, master, worker");
        result_free(res);
        /* A short, key-like word close to a real key is still quoted and gets its suggestion. */
        res = parse("role=lb\n", CLUSTER "secrte2=x\n");
        s = problem(res, 0);
        assert_null(strstr(s, "secrte2"));
        assert_non_null(strstr(s, "(did you mean 'secret'?)"));
        free(s);
        result_free(res);
}

static void config_parse__cluster_key_in_role_file__belongs_in_cluster_txt(void **state)
{
        Result *res = parse("role=lb\nvip=192.168.3.240/24\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: 'vip' belongs in cluster.txt (it must be the same on every node); "
                                "remove it here");
        result_free(res);
}

static void config_parse__role_in_cluster_file__belongs_in_role_txt(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "role=master\n");
        assert_one_problem(res, "cluster.txt:3: 'role' belongs in role.txt (each node has its own)");
        result_free(res);
}

static void config_parse__duplicate_key__names_first_line(void **state)
{
        Result *res = parse("role=lb\n# again\nrole=master\n", CLUSTER);
        assert_one_problem(res, "role.txt:3: duplicate key 'role' (first set on line 1); keep one");
        result_free(res);
}

static void config_parse__duplicate_key_different_case__detected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "VIP=10.0.0.1/24\nvip=10.0.0.2/24\n");
        assert_one_problem_prefix(res, "cluster.txt:4: duplicate key 'vip' (first set on line 3)");
        result_free(res);
}

static void config_parse__line_without_equals__key_value_expected(void **state)
{
        Result *res = parse("role=lb\nmaster\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: expected 'key=value' (for example 'role=…')");
        result_free(res);
}

static void config_parse__bare_word_in_cluster_file__rejected(void **state)
{
        Result *res = parse("role=lb\n", "demo\n" CLUSTER);
        assert_one_problem(res, "cluster.txt:1: expected 'key=value'");
        result_free(res);
}

static void config_parse__missing_key_before_equals__reported(void **state)
{
        Result *res = parse("role=lb\n=yes\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: missing key before '='");
        result_free(res);
}

static void config_parse__key_with_space__invalid_key(void **state)
{
        Result *res = parse("role=lb\nhost name=x\n", CLUSTER);
        assert_one_problem_prefix(res, "role.txt:2: invalid key 'host name'");
        result_free(res);
}

static void config_parse__empty_value__remove_line_hint(void **state)
{
        Result *res = parse("role=lb\nhostname=\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: empty value for 'hostname'; remove the line to use the default");
        result_free(res);
}

/* ---- role ---- */

static void config_parse__unknown_role__suggests_closest(void **state)
{
        Result *res = parse("role=lbb\n", CLUSTER);
        assert_one_problem(res,
                           "role.txt:1: unknown role 'lbb' (did you mean 'lb'?); the roles are lb, master, worker");
        result_free(res);
}

static void config_parse__unknown_role_far_off__lists_roles(void **state)
{
        Result *res = parse("role=kubernetes\n", CLUSTER);
        assert_one_problem(res, "role.txt:1: unknown role 'kubernetes'; the roles are lb, master, worker");
        result_free(res);
}

static void config_parse__no_role__asks_for_one(void **state)
{
        Result *res = parse("# role=lb\nhostname=x\n", CLUSTER);
        assert_one_problem(res, "role.txt: no role set; write one of: role=lb, role=master, role=worker");
        result_free(res);
}

static void config_parse__role_file_missing__says_how_to_create(void **state)
{
        Result *res = parse(NULL, CLUSTER);
        assert_one_problem_prefix(res, "role.txt: not found in the boot partition; create it with one line");
        result_free(res);
}

static void config_parse__init_on_worker__rejected(void **state)
{
        Result *res = parse("role=worker\ninit=yes\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: init=yes only applies to a master (this node is worker); remove it");
        result_free(res);
}

static void config_parse__init_not_boolean__rejected(void **state)
{
        Result *res = parse("role=master\ninit=maybe\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: invalid value 'maybe' for 'init': write yes or no");
        result_free(res);
}

static void config_parse__hostname_upper_case__rejected(void **state)
{
        Result *res = parse("role=lb\nhostname=LB1\n", CLUSTER);
        assert_one_problem_prefix(res, "role.txt:2: invalid hostname 'LB1'");
        result_free(res);
}

static void config_parse__hostname_leading_dash__rejected(void **state)
{
        Result *res = parse("role=lb\nhostname=-lb\n", CLUSTER);
        assert_one_problem_prefix(res, "role.txt:2: invalid hostname '-lb'");
        result_free(res);
}

static void config_parse__hostname_64_chars__rejected(void **state)
{
        char role[128];
        snprintf(role, sizeof role, "role=lb\nhostname=%064d\n", 0);
        Result *res = parse(role, CLUSTER);
        assert_one_problem_prefix(res, "role.txt:2: invalid hostname");
        result_free(res);
}

static void config_parse__interface_with_slash__rejected(void **state)
{
        Result *res = parse("role=lb\ninterface=eth0/1\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: invalid interface name 'eth0/1' (for example eth0 or end0)");
        result_free(res);
}

/* ---- secret ---- */

static void config_parse__missing_secret__says_how_to_generate(void **state)
{
        Result *res = parse("role=lb\n", "cluster=demo\n");
        assert_one_problem(res, "cluster.txt: required key 'secret' is missing; generate one with 'piagent secret' "
                                "and put the same line on every node");
        result_free(res);
}

static void config_parse__short_secret__too_short_and_not_echoed(void **state)
{
        Result *res = parse("role=lb\n", "secret=hunter2hunter2\n");
        assert_one_problem(res, "cluster.txt:1: secret too short (14 characters; at least 32): generate one with "
                                "'piagent secret'");
        result_free(res);
}

static void config_parse__secret_31_chars__too_short(void **state)
{
        Result *res = parse("role=lb\n", "secret=0123456789abcdefghijklmnopqrstu\n");
        assert_one_problem_prefix(res, "cluster.txt:1: secret too short (31 characters");
        result_free(res);
}

static void config_parse__secret_32_chars__accepted(void **state)
{
        CHECK_OK("role=lb\n", "secret=Ab3kQ9zL7xWp2mRt8vYc4nHs6dJf1gTe\n", res);
        assert_int_equal(strlen(res->config->secret), 32);
        result_free(res);
}

/* Long enough and varied, but what a person would pick: refused, without the value in the message. */
static void config_parse__secret_guessable__refused_without_echo(void **state)
{
        static const char *const weak[] = {
                "0123456789abcdefghijklmnopqrstuv",      "thisismysupersecretclusterpassword",
                "Kubernetes-cluster-at-home-2024!",      "password1password1password1password1",
                "MyPiClusterSecret2024MyPiCluster",      "qwertyuiopasdfghjklzxcvbnm1234567890",
                "correcthorsebatterystaplecorrecthorse", "0123456789abcdef0123456789abcdef",
        };

        for (size_t i = 0; i < ELEMENTSOF(weak); i++) {
                _cleanup_free_ char *cluster = NULL;
                assert_true(asprintf(&cluster, "secret=%s\n", weak[i]) > 0);
                Result *res = parse("role=lb\n", cluster);
                assert_int_equal(res->diags.n, 1);
                if (!strstr(res->diags.items[0].message, "secret too easy to guess (about "))
                        print_error("%s: %s\n", weak[i], res->diags.items[0].message);
                assert_non_null(strstr(res->diags.items[0].message, "secret too easy to guess (about "));
                assert_non_null(
                        strstr(res->diags.items[0].message, "at least 128): generate one with 'piagent secret'"));
                assert_null(strstr(res->diags.items[0].message, weak[i]));
                result_free(res);
        }
}

/* What `piagent secret` prints always passes. */
static void config_parse__generated_secrets__accepted(void **state)
{
        for (int i = 0; i < 200; i++) {
                char secret[2 * SECRET_BYTES + 1], cluster[128];
                assert_int_equal(secret_generate(secret), 0);
                snprintf(cluster, sizeof cluster, "secret=%s\n", secret);
                CHECK_OK("role=lb\n", cluster, res);
                result_free(res);
        }
}

static void config_parse__secret_placeholder__rejected(void **state)
{
        Result *res = parse("role=lb\n", "secret=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
        assert_one_problem_prefix(res, "cluster.txt:1: secret looks like a placeholder");
        result_free(res);
}

static void config_parse__secret_with_space__rejected_without_echo(void **state)
{
        Result *res = parse("role=lb\n", "secret=0123456789abcdefghij klmnopqrstuvwxyz\n");
        assert_one_problem(res, "cluster.txt:1: secret contains a space or a non-ASCII character (position 21): "
                                "generate one with 'piagent secret'");
        result_free(res);
}

static void config_parse__secret_too_long__rejected(void **state)
{
        char cluster[400] = "secret=";
        memset(cluster + 7, 0, sizeof cluster - 7);
        for (size_t i = 0; i < 257; i++)
                cluster[7 + i] = "0123456789abcdef"[i % 16];
        Result *res = parse("role=lb\n", cluster);
        assert_one_problem_prefix(res, "cluster.txt:1: secret too long (257 characters; at most 256)");
        result_free(res);
}

/* ---- addresses, ports, counts ---- */

static void config_parse__vip_without_prefix__suggests_one(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "vip=192.168.3.240\n");
        assert_one_problem(res, "cluster.txt:3: 'vip' needs the network's prefix length, e.g. vip=192.168.3.240/24");
        result_free(res);
}

static void config_parse__vip_not_an_address__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "vip=192.168.3.300/24\n");
        assert_one_problem_prefix(res, "cluster.txt:3: invalid vip '192.168.3.300/24'");
        result_free(res);
}

static void config_parse__vip_ipv6__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "vip=fd00::1/64\n");
        assert_one_problem_prefix(res, "cluster.txt:3: invalid vip 'fd00::1/64'");
        result_free(res);
}

static void config_parse__vip_prefix_33__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "vip=10.0.0.1/33\n");
        assert_one_problem_prefix(res, "cluster.txt:3: invalid vip");
        result_free(res);
}

static void config_parse__vip_broadcast_address__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "vip=192.168.3.255/24\n");
        assert_one_problem_prefix(res, "cluster.txt:3: vip 192.168.3.255/24 is the network or broadcast address");
        result_free(res);
}

static void config_parse__api_port_zero__out_of_range(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "api_port=0\n");
        assert_one_problem(res, "cluster.txt:3: invalid api_port '0': a port is a number from 1 to 65535");
        result_free(res);
}

static void config_parse__api_port_65536__out_of_range(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "api_port=65536\n");
        assert_one_problem(res, "cluster.txt:3: invalid api_port '65536': a port is a number from 1 to 65535");
        result_free(res);
}

static void config_parse__api_port_negative__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "api_port=-1\n");
        assert_one_problem_prefix(res, "cluster.txt:3: invalid api_port '-1'");
        result_free(res);
}

static void config_parse__exchange_port_kubernetes__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "exchange_port=2379\n");
        assert_one_problem(res, "cluster.txt:3: exchange_port 2379 is used by Kubernetes on the masters; pick another");
        result_free(res);
}

static void config_parse__same_api_and_exchange_port__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "api_port=9470\n");
        assert_one_problem_prefix(res, "cluster.txt:3: api_port and exchange_port are both 9470");
        result_free(res);
}

static void config_parse__even_masters__must_be_odd(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "masters=2\n");
        assert_one_problem_prefix(res, "cluster.txt:3: masters=2: the number of masters must be odd");
        result_free(res);
}

static void config_parse__zero_masters__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "masters=0\n");
        assert_one_problem_prefix(res, "cluster.txt:3: masters=0: the number of masters must be odd");
        result_free(res);
}

static void config_parse__masters_not_a_number__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "masters=three\n");
        assert_one_problem(res, "cluster.txt:3: invalid masters 'three': write the number of masters, e.g. masters=3");
        result_free(res);
}

static void config_parse__pod_subnet_host_bits__suggests_network(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "pod_subnet=10.244.1.0/16\n");
        assert_one_problem(res,
                           "cluster.txt:3: pod_subnet 10.244.1.0/16 has host bits set; did you mean 10.244.0.0/16?");
        result_free(res);
}

static void config_parse__pod_subnet_too_small__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "pod_subnet=10.244.0.0/24\n");
        assert_one_problem_prefix(res,
                                  "cluster.txt:3: pod_subnet 10.244.0.0/24: the prefix length must be from /8 to /23");
        result_free(res);
}

static void config_parse__overlapping_subnets__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "pod_subnet=10.0.0.0/8\n");
        assert_one_problem_prefix(res, "cluster.txt:3: pod_subnet 10.0.0.0/8 and service_subnet 10.96.0.0/12 overlap");
        result_free(res);
}

static void config_parse__vip_inside_pod_subnet__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "vip=10.244.3.3/24\n");
        assert_one_problem_prefix(res, "cluster.txt:3: vip 10.244.3.3/24 lies inside the pod or service subnet");
        result_free(res);
}

static void config_parse__old_kubernetes_version__unsupported(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "kubernetes_version=v1.20.0\n");
        assert_one_problem_prefix(res, "cluster.txt:3: kubernetes_version v1.20.0 is not supported");
        result_free(res);
}

static void config_parse__garbage_kubernetes_version__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "kubernetes_version=latest\n");
        assert_one_problem_prefix(res, "cluster.txt:3: invalid kubernetes_version 'latest'");
        result_free(res);
}

static void config_parse__misspelt_cni__did_you_mean(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "cni=flanel\n");
        assert_one_problem(res, "cluster.txt:3: unknown cni 'flanel' (did you mean 'flannel'?); choose flannel, calico "
                                "or none");
        result_free(res);
}

static void config_parse__bad_ntp__rejected(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER "ntp=ntp.lan bad_name.lan\n");
        assert_one_problem_prefix(res, "cluster.txt:3: invalid NTP server 'bad_name.lan' in ntp:");
        result_free(res);
        res = parse("role=lb\n", CLUSTER "ntp=-a.lan\n");
        assert_one_problem_prefix(res, "cluster.txt:3: invalid NTP server '-a.lan'");
        result_free(res);
        res = parse("role=lb\n", CLUSTER "ntp=a b c d e f g h i\n");
        assert_one_problem(res, "cluster.txt:3: ntp names more than 8 servers");
        result_free(res);
        res = parse("role=lb\n", CLUSTER "ntp=,,\n");
        assert_one_problem_prefix(res, "cluster.txt:3: ntp is empty");
        result_free(res);
        res = parse("role=lb\n", CLUSTER "wait_for_clock=later\n");
        assert_one_problem(res, "cluster.txt:3: invalid value 'later' for 'wait_for_clock': write yes or no");
        result_free(res);
}

/* ---- encodings and limits ---- */

static void config_parse__binary_file__not_text_reported_once(void **state)
{
        static const char junk[] = "role=lb\n\x7f"
                                   "ELF\x02\x01\x01\x00\x00\nmore\x01junk\n";
        Result *res = parse_n(junk, sizeof junk - 1, CLUSTER, strlen(CLUSTER));
        assert_one_problem(res, "role.txt:2: not a text file (byte 0x7f); write it with a plain text editor");
        result_free(res);
}

static void config_parse__nul_byte__not_text(void **state)
{
        static const char junk[] = "role=l\0b\n";
        Result *res = parse_n(junk, sizeof junk - 1, CLUSTER, strlen(CLUSTER));
        assert_one_problem(res, "role.txt:1: not a text file (control byte 0x00); write it with a plain text editor");
        result_free(res);
}

static void config_parse__invalid_utf8__reported(void **state)
{
        Result *res = parse("role=lb\n# caf\xe9\n", CLUSTER);
        assert_one_problem(res, "role.txt:2: invalid UTF-8 (byte 0xe9); save the file as UTF-8 or plain ASCII");
        result_free(res);
}

static void config_parse__utf8_comment__accepted(void **state)
{
        CHECK_OK("# Raspberry Pi \xe2\x80\x94 caf\xc3\xa9\nrole=lb\n", CLUSTER, res);
        result_free(res);
}

static void config_parse__utf16_file__save_as_utf8(void **state)
{
        static const char u16[] = "\xff\xfer\0o\0l\0e\0=\0l\0b\0";
        Result *res = parse_n(u16, sizeof u16 - 1, CLUSTER, strlen(CLUSTER));
        assert_one_problem(res, "role.txt: file is UTF-16; save it as UTF-8 or plain ASCII");
        result_free(res);
}

static void config_parse__oversized_file__too_large(void **state)
{
        size_t size = KV_FILE_MAX + 1;
        char *big = malloc(size);
        assert_non_null(big);
        memset(big, '#', size);
        Result *res = parse_n("role=lb\n", 8, big, size);
        assert_one_problem(res, "cluster.txt: file too large (65537 bytes; at most 65536): is this the right file?");
        result_free(res);
        free(big);
}

static void config_parse__long_line__too_long(void **state)
{
        char *role = malloc(KV_LINE_MAX + 32);
        assert_non_null(role);
        strcpy(role, "role=lb\n#");
        memset(role + 9, 'a', KV_LINE_MAX);
        role[9 + KV_LINE_MAX] = 0;
        Result *res = parse(role, CLUSTER);
        assert_one_problem(res, "role.txt:2: line too long (1025 bytes; at most 1024)");
        result_free(res);
        free(role);
}

static void config_parse__too_many_keys__reported(void **state)
{
        char *role = malloc(64 * 1024);
        size_t n = 0;
        assert_non_null(role);
        n += (size_t)sprintf(role + n, "role=lb\n");
        for (unsigned i = 0; i < KV_ENTRIES_MAX; i++)
                n += (size_t)sprintf(role + n, "x%u=1\n", i);
        Result *res = parse(role, CLUSTER);
        assert_int_equal(res->r, -EINVAL);
        /* The entries that fit are unknown keys; the one beyond the cap says so. */
        bool found = false;
        for (size_t i = 0; i < res->diags.n; i++)
                found = found || strstr(res->diags.items[i].message, "too many keys") != NULL;
        assert_true(found || res->diags.dropped > 0);
        result_free(res);
        free(role);
}

static void config_parse__many_problems__all_listed(void **state)
{
        Result *res = parse("rol=lb\nhostname=UPPER\ninit=perhaps\n", "secret=short\nmasters=4\napi_port=http\n");
        assert_int_equal(res->r, -EINVAL);
        /* cluster.txt is read first; every problem of both files is listed, and 'rol' leaves no role. */
        assert_int_equal(diag_count(&res->diags), 7);
        char *first = problem(res, 0);
        assert_string_equal(first, "cluster.txt:1: secret too short (5 characters; at least 32): generate one with "
                                   "'piagent secret'");
        free(first);
        result_free(res);
}

static void config_parse__cluster_file_missing__copy_hint(void **state)
{
        Result *res = parse("role=lb\n", NULL);
        assert_one_problem_prefix(res, "cluster.txt: not found in the boot partition; copy cluster.txt");
        result_free(res);
}

static void config_equal__same_files__equal_and_changed_role__different(void **state)
{
        CHECK_OK("role=lb\n", CLUSTER, a);
        CHECK_OK("# same\nrole = lb\n", CLUSTER, b);
        CHECK_OK("role=master\n", CLUSTER, c);
        assert_true(config_equal(a->config, b->config));
        assert_false(config_equal(a->config, c->config));
        result_free(a);
        result_free(b);
        result_free(c);
}

static void kv_parser_line__streamed_lines__same_as_buffer(void **state)
{
        DiagList diags = {};
        KvParser p;

        kv_parser_init(&p, "role.txt", "role", &diags);
        assert_int_equal(kv_parser_line(&p, "\xef\xbb\xbf# hi\r", 8), 0);
        assert_int_equal(kv_parser_line(&p, "master", 6), 0);
        assert_int_equal(kv_parser_line(&p, "init = yes\r", 11), 0);
        assert_int_equal(kv_parser_finish(&p), 0);
        assert_int_equal(diag_count(&diags), 0);
        assert_int_equal(p.n_entries, 2);
        assert_string_equal(kv_parser_get(&p, "role")->value, "master");
        assert_int_equal(kv_parser_get(&p, "role")->line, 2);
        assert_string_equal(kv_parser_get(&p, "init")->value, "yes");
        kv_parser_done(&p);
}

static void kv_edit_distance__typical__expected(void **state)
{
        assert_int_equal(kv_edit_distance("rol", "role", 2), 1);
        assert_int_equal(kv_edit_distance("masterr", "master", 2), 1);
        assert_int_equal(kv_edit_distance("api-port", "api_port", 3), 1);
        assert_int_equal(kv_edit_distance("abc", "xyz", 2), 3);
        assert_int_equal(kv_edit_distance("", "", 2), 0);
}

/* Every holder keeps its own reference: the manager drops its one when the files change while a role still runs
 * with the old configuration (ASan reports a use after free or a leak). */
static void config_ref__two_holders__last_unref_frees(void **state)
{
        Result *res = parse("role=lb\n", CLUSTER);
        Config *manager, *role;

        assert_ok(res);
        manager = TAKE_PTR(res->config);
        result_free(res);
        assert_int_equal(manager->n_ref, 1);
        role = config_ref(manager);
        assert_ptr_equal(role, manager);
        assert_int_equal(role->n_ref, 2);
        assert_null(config_unref(manager));
        assert_int_equal(role->n_ref, 1);
        assert_string_equal(role->secret, SECRET); /* still valid for the role */
        assert_null(config_unref(role));
        assert_null(config_ref(NULL));
        assert_null(config_unref(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(config_parse__reference_files__defaults_of_reference_network),
                cmocka_unit_test(config_ref__two_holders__last_unref_frees),
                cmocka_unit_test(config_parse__every_key_set__values_taken),
                cmocka_unit_test(config_parse__bare_word_role__accepted),
                cmocka_unit_test(config_parse__bare_word_after_comments__accepted),
                cmocka_unit_test(config_parse__role_upper_case__accepted),
                cmocka_unit_test(config_parse__utf8_bom__accepted),
                cmocka_unit_test(config_parse__crlf_line_ends__accepted),
                cmocka_unit_test(config_parse__spaces_and_tabs_around_equals__accepted),
                cmocka_unit_test(config_parse__comments_and_blank_lines__ignored),
                cmocka_unit_test(config_parse__quoted_value__quotes_stripped),
                cmocka_unit_test(config_parse__no_trailing_newline__accepted),
                cmocka_unit_test(config_parse__interface_in_cluster_file__overridden_by_role_file),
                cmocka_unit_test(config_parse__interface_in_cluster_file_only__used),
                cmocka_unit_test(config_parse__kubernetes_version_auto__null),
                cmocka_unit_test(config_parse__secret_with_symbols__kept_verbatim),
                cmocka_unit_test(config_parse__misspelt_key__did_you_mean),
                cmocka_unit_test(config_parse__misspelt_cluster_key__did_you_mean),
                cmocka_unit_test(config_parse__unrelated_key__no_suggestion),
                cmocka_unit_test(config_parse__misplaced_secret__never_echoed),
                cmocka_unit_test(config_parse__cluster_key_in_role_file__belongs_in_cluster_txt),
                cmocka_unit_test(config_parse__role_in_cluster_file__belongs_in_role_txt),
                cmocka_unit_test(config_parse__duplicate_key__names_first_line),
                cmocka_unit_test(config_parse__duplicate_key_different_case__detected),
                cmocka_unit_test(config_parse__line_without_equals__key_value_expected),
                cmocka_unit_test(config_parse__bare_word_in_cluster_file__rejected),
                cmocka_unit_test(config_parse__missing_key_before_equals__reported),
                cmocka_unit_test(config_parse__key_with_space__invalid_key),
                cmocka_unit_test(config_parse__empty_value__remove_line_hint),
                cmocka_unit_test(config_parse__unknown_role__suggests_closest),
                cmocka_unit_test(config_parse__unknown_role_far_off__lists_roles),
                cmocka_unit_test(config_parse__no_role__asks_for_one),
                cmocka_unit_test(config_parse__role_file_missing__says_how_to_create),
                cmocka_unit_test(config_parse__init_on_worker__rejected),
                cmocka_unit_test(config_parse__init_not_boolean__rejected),
                cmocka_unit_test(config_parse__hostname_upper_case__rejected),
                cmocka_unit_test(config_parse__hostname_leading_dash__rejected),
                cmocka_unit_test(config_parse__hostname_64_chars__rejected),
                cmocka_unit_test(config_parse__interface_with_slash__rejected),
                cmocka_unit_test(config_parse__missing_secret__says_how_to_generate),
                cmocka_unit_test(config_parse__short_secret__too_short_and_not_echoed),
                cmocka_unit_test(config_parse__secret_31_chars__too_short),
                cmocka_unit_test(config_parse__secret_32_chars__accepted),
                cmocka_unit_test(config_parse__secret_guessable__refused_without_echo),
                cmocka_unit_test(config_parse__generated_secrets__accepted),
                cmocka_unit_test(config_parse__secret_placeholder__rejected),
                cmocka_unit_test(config_parse__secret_with_space__rejected_without_echo),
                cmocka_unit_test(config_parse__secret_too_long__rejected),
                cmocka_unit_test(config_parse__vip_without_prefix__suggests_one),
                cmocka_unit_test(config_parse__vip_not_an_address__rejected),
                cmocka_unit_test(config_parse__vip_ipv6__rejected),
                cmocka_unit_test(config_parse__vip_prefix_33__rejected),
                cmocka_unit_test(config_parse__vip_broadcast_address__rejected),
                cmocka_unit_test(config_parse__api_port_zero__out_of_range),
                cmocka_unit_test(config_parse__api_port_65536__out_of_range),
                cmocka_unit_test(config_parse__api_port_negative__rejected),
                cmocka_unit_test(config_parse__exchange_port_kubernetes__rejected),
                cmocka_unit_test(config_parse__same_api_and_exchange_port__rejected),
                cmocka_unit_test(config_parse__even_masters__must_be_odd),
                cmocka_unit_test(config_parse__zero_masters__rejected),
                cmocka_unit_test(config_parse__masters_not_a_number__rejected),
                cmocka_unit_test(config_parse__pod_subnet_host_bits__suggests_network),
                cmocka_unit_test(config_parse__pod_subnet_too_small__rejected),
                cmocka_unit_test(config_parse__overlapping_subnets__rejected),
                cmocka_unit_test(config_parse__vip_inside_pod_subnet__rejected),
                cmocka_unit_test(config_parse__old_kubernetes_version__unsupported),
                cmocka_unit_test(config_parse__garbage_kubernetes_version__rejected),
                cmocka_unit_test(config_parse__misspelt_cni__did_you_mean),
                cmocka_unit_test(config_parse__bad_ntp__rejected),
                cmocka_unit_test(config_parse__binary_file__not_text_reported_once),
                cmocka_unit_test(config_parse__nul_byte__not_text),
                cmocka_unit_test(config_parse__invalid_utf8__reported),
                cmocka_unit_test(config_parse__utf8_comment__accepted),
                cmocka_unit_test(config_parse__utf16_file__save_as_utf8),
                cmocka_unit_test(config_parse__oversized_file__too_large),
                cmocka_unit_test(config_parse__long_line__too_long),
                cmocka_unit_test(config_parse__too_many_keys__reported),
                cmocka_unit_test(config_parse__many_problems__all_listed),
                cmocka_unit_test(config_parse__cluster_file_missing__copy_hint),
                cmocka_unit_test(config_equal__same_files__equal_and_changed_role__different),
                cmocka_unit_test(kv_parser_line__streamed_lines__same_as_buffer),
                cmocka_unit_test(kv_edit_distance__typical__expected),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
