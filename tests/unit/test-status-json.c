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
        assert_int_equal(status_json_render(&self, s, 5000000 + 90 * 1000000ULL, &text), 0);
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
        free(out);
        free(text);
        peer_set_free(s);
}

static void status_json_render__nothing_known__nulls(void **state)
{
        char *text = NULL, *out;
        int r;

        assert_int_equal(status_json_render(&(StatusSelf){.phase = "config-error"}, NULL, 0, &text), 0);
        assert_non_null(strstr(text, "\"id\":null"));
        assert_non_null(strstr(text, "\"peers\":[]"));
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
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(status_json_render__peers__document_and_table),
                cmocka_unit_test(status_json_render__nothing_known__nulls),
                cmocka_unit_test(status_print_table__not_a_status_document__einval),
                cmocka_unit_test(status_print_table__hostile_fields__shown_safely),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
