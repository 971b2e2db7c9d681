/* SPDX-License-Identifier: MIT */
/* `piagent status`: the daemon's JSON document and the table the CLI prints from it, including from documents
 * that are broken or hostile (the socket path can be overridden, so the CLI trusts nothing it reads). */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "status-json.h"

#define TAG "76338c64fea54b45"

static void add(PeerSet *s, const char *service, const char *id, Role role, const char *addr, uint64_t seen)
{
        PeerTxt t = {.version = 1, .tag = TAG, .role = role, .phase = PHASE_DISCOVERING};
        PeerUpdate u = {.service = service, .hostname = service, .txt = &t, .port = 9470};
        unsigned c;

        snprintf(t.id, sizeof t.id, "%s", id);
        assert_int_equal(inet_pton(AF_INET, addr, &u.address), 1);
        assert_int_equal(peer_set_update(s, &u, seen, &c), 0);
}

/* What status_print_table prints for text. */
static char *table(const char *text, int *ret)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        *ret = status_print_table(text, strlen(text), f);
        fclose(f);
        return buf;
}

static void status_json_render__peers__document_and_table(void **state)
{
        PeerSet *s = NULL;
        char *text = NULL, *out;
        int r;
        StatusSelf self = {.id = "027700000003",
                           .hostname = "master-000003",
                           .role = "master",
                           .phase = "discovering",
                           .cluster = "demo",
                           .tag = TAG,
                           .interface = "eth0",
                           .service = "master-000003",
                           .mdns = "running",
                           .port = 9470,
                           .status = "master master-000003: discovering, 2 peers"};

        assert_int_equal(peer_set_new(&s), 0);
        add(s, "worker-000009", "027700000009", ROLE_WORKER, "10.77.0.19", 1000);
        add(s, "lb-000001", "027700000001", ROLE_LB, "10.77.0.10", 3000000);
        assert_int_equal(status_json_render(&self, s, NULL, 0, 5000000 + 90 * 1000000ULL, &text), 0);
        assert_non_null(strstr(text, "\"version\":1"));
        assert_non_null(strstr(text, "\"hostname\":\"master-000003\""));
        assert_non_null(strstr(text, "\"addresses\":[\"10.77.0.10\"]"));
        assert_non_null(strstr(text, "\"last_seen_ms_ago\":92000"));
        assert_null(strstr(text, "secret"));

        out = table(text, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(out, "This node: master-000003 (id 027700000003), role master, phase discovering\n"));
        assert_non_null(strstr(out, "Cluster:   demo (tag " TAG "), interface eth0, mDNS running"));
        assert_non_null(strstr(out, "027700000001  lb-000001            lb      discovering    10.77.0.10      "
                                    "1m ago\n"));
        assert_non_null(strstr(out, "027700000009  worker-000009        worker  discovering    10.77.0.19      "
                                    "1m ago\n"));
        assert_true(strstr(out, "027700000001") < strstr(out, "027700000009"));
        assert_non_null(strstr(out, "\n2 peers.\n"));
        assert_null(strstr(out, "did not verify"));
        free(out);
        free(text);
        peer_set_free(s);
}

static void status_json_render__rejected__listed_apart(void **state)
{
        PeerSet *s = NULL;
        PeerRejected *rej = NULL;
        char *text = NULL, *out;
        int r;
        RejectedUpdate u = {.service = "master-000000",
                            .id = "000000000001",
                            .role = ROLE_MASTER,
                            .reason = "not signed with this cluster's secret"};

        assert_int_equal(peer_set_new(&s), 0);
        assert_int_equal(peer_rejected_new(&rej), 0);
        add(s, "lb-000001", "027700000001", ROLE_LB, "10.77.0.10", 1000);
        assert_int_equal(inet_pton(AF_INET, "10.77.0.15", &u.address), 1);
        assert_int_equal(peer_rejected_add(rej, &u, 1000000), 0);
        u = (RejectedUpdate){.service = "junk",
                             .address = u.address,
                             .role = _ROLE_INVALID,
                             .reason = "bad TXT record (missing key 'v')"};
        assert_int_equal(peer_rejected_add(rej, &u, 2000000), 0);
        assert_int_equal(status_json_render(&(StatusSelf){.phase = "ready"}, s, rej, 7, 4000000, &text), 0);
        assert_non_null(strstr(text, "\"rejected\":[{\"service\":\"junk\",\"address\":\"10.77.0.15\",\"id\":null,"
                                     "\"role\":null,\"reason\":\"bad TXT record (missing key 'v')\",\"count\":1"));
        assert_non_null(strstr(text, "{\"service\":\"master-000000\",\"address\":\"10.77.0.15\",\"id\":"
                                     "\"000000000001\",\"role\":\"master\",\"reason\":\"not signed with this "
                                     "cluster's secret\",\"count\":1,\"last_seen_ms_ago\":3000"));
        assert_non_null(strstr(text, "\"rejected_total\":7"));

        out = table(text, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(out, "\n1 peer.\n"));
        assert_non_null(strstr(out, "Records that did not verify (not peers; 2 kept of 7 rejected since start):\n"));
        assert_non_null(strstr(out, "master-000000            10.77.0.15      master 000000000001  3s ago    not "
                                    "signed with this cluster's secret\n"));
        assert_non_null(strstr(out, "junk                     10.77.0.15      -                    2s ago    bad TXT "
                                    "record (missing key 'v')\n"));
        free(out);
        free(text);
        peer_rejected_free(rej);
        peer_set_free(s);
}

static void status_json_render__nothing_known__nulls(void **state)
{
        char *text = NULL, *out;
        int r;

        assert_int_equal(status_json_render(&(StatusSelf){.phase = "config-error"}, NULL, NULL, 0, 0, &text), 0);
        assert_non_null(strstr(text, "\"id\":null"));
        assert_non_null(strstr(text, "\"peers\":[]"));
        assert_non_null(strstr(text, "\"rejected\":[]"));
        out = table(text, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(out, "This node: - (id -), role -, phase config-error\n"));
        assert_non_null(strstr(out, "\n0 peers.\n"));
        free(out);
        free(text);
}

static void status_print_table__not_a_status_document__einval(void **state)
{
        static const char *const bad[] = {
                "",
                "null",
                "[]",
                "{}",
                "{\"version\":2,\"self\":{},\"peers\":[]}",
                "{\"version\":1,\"self\":[],\"peers\":[]}",
                "{\"version\":1,\"self\":{},\"peers\":{}}",
                "{\"version\":1,\"self\":{},\"peers\":[]} trailing",
                "{\"version\":1,\"self\":{},\"peers\":[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]}",
        };
        int r;

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                free(table(bad[i], &r));
                assert_int_equal(r, -EINVAL);
        }
}

static void status_print_table__hostile_fields__shown_safely(void **state)
{
        const char *doc = "{\"version\":1,\"self\":{\"hostname\":\"a\\u001b[2Jb\",\"id\":7},\"peers\":["
                          "{\"id\":\"027700000001\",\"hostname\":null,\"role\":\"lb\",\"addresses\":[1],"
                          "\"last_seen_ms_ago\":-5},"
                          "\"not an object\","
                          "{\"id\":\"027700000002\",\"addresses\":[\"10.0.0.1\"],\"last_seen_ms_ago\":7200000}]}";
        char *out;
        int r;

        out = table(doc, &r);
        assert_int_equal(r, 0);
        assert_null(strchr(out, '\x1b'));
        assert_non_null(strstr(out, "This node: ? (id ?)"));
        assert_non_null(strstr(out, "027700000001  -                    lb      -              -               ?\n"));
        assert_non_null(strstr(out, "10.0.0.1        2h ago\n"));
        assert_non_null(strstr(out, "\n2 peers.\n"));
        free(out);

        /* Rejected records are as hostile as the rest. */
        out = table("{\"version\":1,\"self\":{},\"peers\":[],\"rejected_total\":\"x\",\"rejected\":[7,"
                    "{\"service\":\"evil\\u001b[2J\",\"address\":{},\"id\":\"1\",\"reason\":\"r\\u0007\"}]}",
                    &r);
        assert_int_equal(r, 0);
        assert_null(strchr(out, '\x1b'));
        assert_null(strchr(out, '\a'));
        assert_non_null(strstr(out, "2 kept of 0 rejected"));
        assert_non_null(strstr(out, "?                        ?               - 1"));
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(status_json_render__peers__document_and_table),
                cmocka_unit_test(status_json_render__rejected__listed_apart),
                cmocka_unit_test(status_json_render__nothing_known__nulls),
                cmocka_unit_test(status_print_table__not_a_status_document__einval),
                cmocka_unit_test(status_print_table__hostile_fields__shown_safely),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
