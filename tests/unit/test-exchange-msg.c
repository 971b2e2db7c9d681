/* SPDX-License-Identifier: MIT */
/* The exchange's JSON messages: what is encoded decodes back, and what arrives malformed is refused. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "exchange-msg.h"
#include "macro.h"

#define HEX64          "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEXCN          "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define MAC64          "3ae045cdd379c3036c807df58f10293cfffb21b62199725492c99cc0c269e31c"
#define REQUEST_FIELDS "\"server_nonce\":\"" HEX64 "\",\"client_nonce\":\"" HEXCN "\",\"mac\":\"" MAC64 "\""
#define GOOD_JOIN      "{\"v\":1,\"op\":\"join\",\"node\":\"worker-a1b2c3\",\"role\":\"worker\"," REQUEST_FIELDS "}"

#define TOKEN   "abcdef.0123456789abcdef"
#define CAHASH  "sha256:a826d25a43ab2fde0414e73ba531348ed83760cd953052818239967624757d91"
#define CERTKEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define CAPEM   "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static int decode(const char *s, ExchangeRequest *r)
{
        return exchange_request_from_json(s, strlen(s), r);
}

static void exchange_request_from_json__good_join__fields(void **state)
{
        ExchangeRequest r;

        assert_int_equal(decode(GOOD_JOIN, &r), 0);
        assert_int_equal(r.version, 1);
        assert_int_equal(r.op, EXCHANGE_OP_JOIN);
        assert_string_equal(r.node, "worker-a1b2c3");
        assert_int_equal(r.role, EXCHANGE_ROLE_WORKER);
        assert_int_equal(r.result, EXCHANGE_RESULT_NONE);
        assert_int_equal(r.server_nonce[1], 1);
        assert_int_equal(r.client_nonce[0], 0x20);
        assert_int_equal(r.mac[0], 0x3a);
}

static void exchange_request_to_json__every_operation__round_trip(void **state)
{
        static const ExchangeRequest cases[] = {
                {.op = EXCHANGE_OP_JOIN, .node = "w1", .role = EXCHANGE_ROLE_WORKER},
                {.op = EXCHANGE_OP_JOIN, .node = "m2", .role = EXCHANGE_ROLE_CONTROL_PLANE},
                {.op = EXCHANGE_OP_VOTE, .node = "m3"},
                {.op = EXCHANGE_OP_CA, .node = "lb1"},
                {.op = EXCHANGE_OP_JOINED,
                 .node = "m2",
                 .role = EXCHANGE_ROLE_CONTROL_PLANE,
                 .result = EXCHANGE_RESULT_FAILED},
                {.op = EXCHANGE_OP_READY, .node = "w7"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ExchangeRequest in = cases[i], out;
                char *s = NULL;

                in.version = EXCHANGE_VERSION;
                for (int j = 0; j < EXCHANGE_NONCE_SIZE; j++) {
                        in.server_nonce[j] = (uint8_t)(i + j);
                        in.client_nonce[j] = (uint8_t)(200 - j);
                        in.mac[j] = (uint8_t)(j * 7);
                }
                assert_int_equal(exchange_request_to_json(&in, &s), 0);
                assert_true(strlen(s) < EXCHANGE_REQUEST_MAX);
                assert_int_equal(decode(s, &out), 0);
                assert_memory_equal(&in, &out, sizeof in);
                free(s);
        }
}

static void exchange_request_to_json__inconsistent_request__einval(void **state)
{
        ExchangeRequest r = {.version = 1, .op = EXCHANGE_OP_VOTE, .node = "n", .role = EXCHANGE_ROLE_WORKER};
        char *s = NULL;

        assert_int_equal(exchange_request_to_json(&r, &s), -EINVAL);
        assert_null(s);
}

/* Each malformed request, with what it tests. */
static void exchange_request_from_json__malformed__einval(void **state)
{
        static const char *const cases[] = {
                "",
                "null",
                "[]",
                "\"join\"",
                "{",
                "{}",
                GOOD_JOIN "x",
                GOOD_JOIN GOOD_JOIN,
                /* truncated */
                "{\"v\":1,\"op\":\"join\",\"node\":\"worker-a1b2c3\",\"role\":\"worker\",\"server_nonce\":\"" HEX64,
                /* missing fields */
                "{\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\",\"client_nonce\":\"" HEXCN
                "\",\"mac\":\"" MAC64 "\"}",
                "{\"v\":1,\"op\":\"joined\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                /* wrong types */
                "{\"v\":\"1\",\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":1,\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":[\"w\"],\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":true," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":null," REQUEST_FIELDS "}",
                "{\"v\":1.5,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":-1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                /* bad values */
                "{\"v\":1,\"op\":\"steal\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"JOIN\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"master\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"a b\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\\u0000x\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"vote\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\",\"result\":\"ok\"," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"joined\",\"node\":\"w\",\"role\":\"worker\",\"result\":\"maybe\"," REQUEST_FIELDS
                "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\",\"server_nonce\":\"00\",\"client_nonce\":"
                "\"" HEXCN "\",\"mac\":\"" MAC64 "\"}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\",\"server_nonce\":\"" HEX64
                "00\",\"client_nonce\":\"" HEXCN "\",\"mac\":\"" MAC64 "\"}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\",\"server_nonce\":\"" HEX64
                "\",\"client_nonce\":\"" HEXCN "\",\"mac\":\"zz" MAC64 "\"}",
                /* unknown and repeated keys */
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\",\"admin\":true," REQUEST_FIELDS "}",
                "{\"v\":1,\"op\":\"join\",\"node\":\"w\",\"node\":\"x\",\"role\":\"worker\"," REQUEST_FIELDS "}",
                /* nested */
                "{\"v\":1,\"op\":{\"op\":{\"op\":\"join\"}}}",
                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        };
        ExchangeRequest r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int k = decode(cases[i], &r);
                if (k != -EINVAL)
                        print_error("case %zu: %s -> %d\n", i, cases[i], k);
                assert_int_equal(k, -EINVAL);
        }
}

static void exchange_answer_from_json__thousands_of_members__einval_quickly(void **state)
{
        size_t n = 0, cap = EXCHANGE_PLAIN_MAX;
        char *s = malloc(cap + 1);
        ExchangeAnswer a;

        assert_non_null(s);
        n += (size_t)sprintf(s, "{\"v\":1,\"op\":\"ca\",\"server\":\"m\"");
        for (unsigned i = 0; n + 16 < cap - 1; i++)
                n += (size_t)sprintf(s + n, ",\"%05u\":0", i);
        s[n++] = '}';
        s[n] = 0;
        assert_int_equal(exchange_answer_from_json(s, n, EXCHANGE_OP_CA, 0, &a), -EINVAL);
        free(s);
}

static void exchange_request_from_json__version_2__eprotonosupport(void **state)
{
        ExchangeRequest r;

        assert_int_equal(decode("{\"v\":2,\"op\":\"join\",\"node\":\"w\",\"role\":\"worker\"," REQUEST_FIELDS "}", &r),
                         -EPROTONOSUPPORT);
        assert_int_equal(decode("{\"v\":0,\"future\":[1,2]}", &r), -EPROTONOSUPPORT);
}

static void exchange_request_from_json__oversized__e2big(void **state)
{
        size_t n = EXCHANGE_REQUEST_MAX + 1;
        char *big = malloc(n + 1);
        ExchangeRequest r;

        assert_non_null(big);
        memset(big, ' ', n);
        memcpy(big, GOOD_JOIN, strlen(GOOD_JOIN));
        big[n] = 0;
        assert_int_equal(exchange_request_from_json(big, n, &r), -E2BIG);
        /* The same padded to the limit is fine: trailing whitespace. */
        assert_int_equal(exchange_request_from_json(big, EXCHANGE_REQUEST_MAX, &r), 0);
        free(big);
}

static void exchange_request_from_json__embedded_nul__einval(void **state)
{
        char s[] = GOOD_JOIN;
        ExchangeRequest r;

        s[20] = 0;
        assert_int_equal(exchange_request_from_json(s, sizeof s - 1, &r), -EINVAL);
}

static void exchange_nonce_json__round_trip_and_malformed(void **state)
{
        uint8_t n[EXCHANGE_NONCE_SIZE], back[EXCHANGE_NONCE_SIZE];
        char *s = NULL;

        for (int i = 0; i < EXCHANGE_NONCE_SIZE; i++)
                n[i] = (uint8_t)(0xf0 ^ i);
        assert_int_equal(exchange_nonce_to_json(n, &s), 0);
        assert_int_equal(exchange_nonce_from_json(s, strlen(s), back), 0);
        assert_memory_equal(n, back, sizeof n);
        free(s);

        s = "{\"v\":1,\"nonce\":\"" HEX64 "\",\"extra\":1}";
        assert_int_equal(exchange_nonce_from_json(s, strlen(s), back), -EINVAL);
        s = "{\"v\":1,\"nonce\":\"" HEX64 "0\"}";
        assert_int_equal(exchange_nonce_from_json(s, strlen(s), back), -EINVAL);
        s = "{\"v\":1}";
        assert_int_equal(exchange_nonce_from_json(s, strlen(s), back), -EINVAL);
}

static void exchange_status_json__round_trip__strings_owned(void **state)
{
        ExchangeStatus in = {.node = "master-0a0b0c", .role = "master", .phase = "ready", .version = "0.1.0"}, out;
        char *s = NULL;

        assert_int_equal(exchange_status_to_json(&in, &s), 0);
        assert_int_equal(exchange_status_from_json(s, strlen(s), &out), 0);
        free(s);
        assert_string_equal(out.node, "master-0a0b0c");
        assert_string_equal(out.role, "master");
        assert_string_equal(out.phase, "ready");
        assert_string_equal(out.version, "0.1.0");
        exchange_status_done(&out);
        assert_null(out.storage);
}

static void exchange_status_json__bad_texts__einval(void **state)
{
        ExchangeStatus in = {.node = "m", .role = "master", .phase = "ready now", .version = "1"}, out;
        char *s = NULL;

        assert_int_equal(exchange_status_to_json(&in, &s), -EINVAL);
        s = "{\"v\":1,\"node\":\"m\",\"role\":\"<script>\",\"phase\":\"p\",\"version\":\"1\"}";
        assert_int_equal(exchange_status_from_json(s, strlen(s), &out), -EINVAL);
        s = "{\"v\":1,\"node\":\"m\",\"role\":\"master\",\"phase\":\"p\"}";
        assert_int_equal(exchange_status_from_json(s, strlen(s), &out), -EINVAL);
}

static void exchange_sealed_json__round_trip_and_wrong_type(void **state)
{
        char *s = NULL, *hex = NULL;

        assert_int_equal(exchange_sealed_to_json("00ff", &s), 0);
        assert_string_equal(s, "{\"v\":1,\"sealed\":\"00ff\"}");
        assert_int_equal(exchange_sealed_from_json(s, strlen(s), &hex), 0);
        assert_string_equal(hex, "00ff");
        free(hex);
        free(s);
        s = "{\"v\":1,\"sealed\":[\"00ff\"]}";
        assert_int_equal(exchange_sealed_from_json(s, strlen(s), &hex), -EINVAL);
}

static void exchange_join_material_check__formats__strict(void **state)
{
        ExchangeJoinMaterial good = {.endpoint = "192.168.3.240:9000", .token = TOKEN, .ca_cert_hash = CAHASH}, m;

        assert_int_equal(exchange_join_material_check(&good, EXCHANGE_ROLE_WORKER), 0);
        assert_int_equal(exchange_join_material_check(&good, EXCHANGE_ROLE_CONTROL_PLANE), -EINVAL);
        assert_int_equal(exchange_join_material_check(&good, EXCHANGE_ROLE_NONE), -EINVAL);
        m = good;
        m.certificate_key = CERTKEY;
        assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_CONTROL_PLANE), 0);
        assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_WORKER), -EINVAL);
        m.certificate_key = CERTKEY "0";
        assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_CONTROL_PLANE), -EINVAL);

        static const char *const endpoints[] = {"",           ":9000",      "host",    "host:",   "host:0",
                                                "host:65536", "host:09000", "ho st:1", "host:1x", "host;rm -rf:1"};
        for (size_t i = 0; i < ELEMENTSOF(endpoints); i++) {
                m = good;
                m.endpoint = endpoints[i];
                assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_WORKER), -EINVAL);
        }
        m = good;
        m.endpoint = "cluster.local:65535";
        assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_WORKER), 0);

        static const char *const tokens[] = {"",
                                             "abcdef0123456789abcdef",
                                             "ABCDEF.0123456789abcdef",
                                             "abcdef.0123456789abcde",
                                             "abcdef.0123456789abcdef0",
                                             "abcde-.0123456789abcdef"};
        for (size_t i = 0; i < ELEMENTSOF(tokens); i++) {
                m = good;
                m.token = tokens[i];
                assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_WORKER), -EINVAL);
        }
        m = good;
        m.ca_cert_hash = "sha1:a826d25a43ab2fde0414e73ba531348ed83760cd953052818239967624757d91";
        assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_WORKER), -EINVAL);
        m.ca_cert_hash = NULL;
        assert_int_equal(exchange_join_material_check(&m, EXCHANGE_ROLE_WORKER), -EINVAL);
}

static void exchange_answer_json__every_operation__round_trip(void **state)
{
        const ExchangeAnswer cases[] = {
                {.op = EXCHANGE_OP_JOIN,
                 .server = "m1",
                 .join = {.endpoint = "192.168.3.240:9000", .token = TOKEN, .ca_cert_hash = CAHASH}},
                {.op = EXCHANGE_OP_JOIN,
                 .server = "m1",
                 .join = {.endpoint = "vip:9000", .token = TOKEN, .ca_cert_hash = CAHASH, .certificate_key = CERTKEY}},
                {.op = EXCHANGE_OP_VOTE, .server = "m2", .granted = true},
                {.op = EXCHANGE_OP_VOTE, .server = "m2", .granted = false},
                {.op = EXCHANGE_OP_VOTE, .server = "m2", .granted = false, .refusal = "cluster-exists"},
                {.op = EXCHANGE_OP_CA, .server = "m3", .ca = CAPEM},
                {.op = EXCHANGE_OP_JOINED, .server = "m3"},
                {.op = EXCHANGE_OP_KUBECONFIG, .server = "m3", .kubeconfig = "apiVersion: v1\nkind: Config\n"},
                {.op = EXCHANGE_OP_READY, .server = "m1"},
        };
        const ExchangeRole roles[] = {EXCHANGE_ROLE_WORKER, EXCHANGE_ROLE_CONTROL_PLANE, 0, 0, 0, 0, 0, 0, 0};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const ExchangeAnswer *in = &cases[i];
                ExchangeAnswer out;
                char *s = NULL;

                assert_int_equal(exchange_answer_to_json(in, roles[i], &s), 0);
                assert_int_equal(exchange_answer_from_json(s, strlen(s), in->op, roles[i], &out), 0);
                assert_int_equal(out.op, in->op);
                assert_string_equal(out.server, in->server);
                assert_int_equal(out.granted, in->granted);
                assert_true(streq_ptr(out.ca, in->ca));
                assert_true(streq_ptr(out.refusal, in->refusal));
                assert_true(streq_ptr(out.join.endpoint, in->join.endpoint));
                assert_true(streq_ptr(out.join.token, in->join.token));
                assert_true(streq_ptr(out.join.ca_cert_hash, in->join.ca_cert_hash));
                assert_true(streq_ptr(out.join.certificate_key, in->join.certificate_key));
                assert_true(streq_ptr(out.kubeconfig, in->kubeconfig));
                /* An answer to one operation is no answer to another. */
                assert_int_equal(exchange_answer_from_json(s, strlen(s), (in->op + 1) % _EXCHANGE_OP_MAX, roles[i],
                                                           &(ExchangeAnswer){}),
                                 -EINVAL);
                exchange_answer_done(&out);
                assert_null(out.storage);
                free(s);
        }
}

static void exchange_answer_from_json__foreign_fields__einval(void **state)
{
        static const struct {
                ExchangeOp op;
                ExchangeRole role;
                const char *text;
        } cases[] = {
                {EXCHANGE_OP_VOTE, 0, "{\"v\":1,\"op\":\"vote\",\"server\":\"m\",\"granted\":true,\"ca\":\"x\"}"},
                {EXCHANGE_OP_VOTE, 0, "{\"v\":1,\"op\":\"vote\",\"server\":\"m\",\"granted\":1}"},
                {EXCHANGE_OP_VOTE, 0, "{\"v\":1,\"op\":\"vote\",\"server\":\"m\"}"},
                {EXCHANGE_OP_VOTE, 0, "{\"v\":1,\"op\":\"vote\",\"server\":\"m\",\"granted\":true,\"refusal\":\"x\"}"},
                {EXCHANGE_OP_VOTE, 0,
                 "{\"v\":1,\"op\":\"vote\",\"server\":\"m\",\"granted\":false,\"refusal\":\"a b\"}"},
                {EXCHANGE_OP_JOINED, 0, "{\"v\":1,\"op\":\"joined\",\"server\":\"m\",\"granted\":true}"},
                {EXCHANGE_OP_CA, 0, "{\"v\":1,\"op\":\"ca\",\"server\":\"m\",\"ca\":\"not a pem\"}"},
                {EXCHANGE_OP_KUBECONFIG, 0, "{\"v\":1,\"op\":\"kubeconfig\",\"server\":\"m\",\"kubeconfig\":\"junk\"}"},
                {EXCHANGE_OP_KUBECONFIG, 0, "{\"v\":1,\"op\":\"kubeconfig\",\"server\":\"m\"}"},
                {EXCHANGE_OP_KUBECONFIG, 0,
                 "{\"v\":1,\"op\":\"kubeconfig\",\"server\":\"m\",\"kubeconfig\":\"apiVersion: v1\\n\",\"ca\":\"x\"}"},
                {EXCHANGE_OP_CA, 0, "{\"v\":1,\"op\":\"ca\",\"server\":\"bad server\",\"ca\":\"" CAPEM "\"}"},
                {EXCHANGE_OP_JOIN, EXCHANGE_ROLE_WORKER,
                 "{\"v\":1,\"op\":\"join\",\"server\":\"m\",\"endpoint\":\"h:1\",\"token\":\"" TOKEN
                 "\",\"ca_cert_hash\":\"" CAHASH "\",\"certificate_key\":\"" CERTKEY "\"}"},
                {EXCHANGE_OP_JOIN, EXCHANGE_ROLE_CONTROL_PLANE,
                 "{\"v\":1,\"op\":\"join\",\"server\":\"m\",\"endpoint\":\"h:1\",\"token\":\"" TOKEN
                 "\",\"ca_cert_hash\":\"" CAHASH "\"}"},
                {EXCHANGE_OP_JOIN, EXCHANGE_ROLE_WORKER,
                 "{\"v\":1,\"op\":\"join\",\"server\":\"m\",\"endpoint\":\"h:1\",\"token\":\"" TOKEN
                 "\",\"ca_cert_hash\":\"" CAHASH "\",\"granted\":false}"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ExchangeAnswer a;
                int k = exchange_answer_from_json(cases[i].text, strlen(cases[i].text), cases[i].op, cases[i].role, &a);
                if (k != -EINVAL)
                        print_error("case %zu -> %d\n", i, k);
                assert_int_equal(k, -EINVAL);
        }
}

static void exchange_answer_to_json__invalid_material__einval(void **state)
{
        ExchangeAnswer a = {.op = EXCHANGE_OP_JOIN,
                            .server = "m1",
                            .join = {.endpoint = "vip:9000", .token = "short", .ca_cert_hash = CAHASH}};
        char *s = NULL;

        assert_int_equal(exchange_answer_to_json(&a, EXCHANGE_ROLE_WORKER, &s), -EINVAL);
        a = (ExchangeAnswer){.op = EXCHANGE_OP_VOTE, .server = NULL};
        assert_int_equal(exchange_answer_to_json(&a, 0, &s), -EINVAL);
        a = (ExchangeAnswer){.op = EXCHANGE_OP_VOTE, .server = "m", .granted = true, .refusal = "why"};
        assert_int_equal(exchange_answer_to_json(&a, 0, &s), -EINVAL);
        a = (ExchangeAnswer){.op = EXCHANGE_OP_CA, .server = "m", .ca = "x"};
        assert_int_equal(exchange_answer_to_json(&a, 0, &s), -EINVAL);
        assert_null(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(exchange_request_from_json__good_join__fields),
                cmocka_unit_test(exchange_request_to_json__every_operation__round_trip),
                cmocka_unit_test(exchange_request_to_json__inconsistent_request__einval),
                cmocka_unit_test(exchange_request_from_json__malformed__einval),
                cmocka_unit_test(exchange_answer_from_json__thousands_of_members__einval_quickly),
                cmocka_unit_test(exchange_request_from_json__version_2__eprotonosupport),
                cmocka_unit_test(exchange_request_from_json__oversized__e2big),
                cmocka_unit_test(exchange_request_from_json__embedded_nul__einval),
                cmocka_unit_test(exchange_nonce_json__round_trip_and_malformed),
                cmocka_unit_test(exchange_status_json__round_trip__strings_owned),
                cmocka_unit_test(exchange_status_json__bad_texts__einval),
                cmocka_unit_test(exchange_sealed_json__round_trip_and_wrong_type),
                cmocka_unit_test(exchange_join_material_check__formats__strict),
                cmocka_unit_test(exchange_answer_json__every_operation__round_trip),
                cmocka_unit_test(exchange_answer_from_json__foreign_fields__einval),
                cmocka_unit_test(exchange_answer_to_json__invalid_material__einval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
