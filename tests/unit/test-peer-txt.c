/* SPDX-License-Identifier: MIT */
/* The _piagent._tcp TXT record: encoding, and every way a record from the network can be wrong. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peer-txt.h"
#include "strv.h"

#define TAG   "76338c64fea54b45"
#define OTHER "0123456789abcdef"
#define ID    "027700000001"

typedef struct Parsed {
        int r;
        PeerTxt t;
        PeerTxtVerdict v;
        char reason[PEER_TXT_REASON_MAX];
} Parsed;

/* Parses NULL-terminated C strings as TXT items. */
static Parsed parse_strv(const char *const *items)
{
        TxtItem it[64];
        size_t n = 0;
        Parsed p = {.v = _PEER_TXT_VERDICT_MAX};

        for (; items[n]; n++)
                it[n] = (TxtItem){items[n], strlen(items[n])};
        p.r = peer_txt_parse(it, n, TAG, &p.t, &p.v, p.reason, sizeof p.reason);
        return p;
}

#define PARSE(...) parse_strv((const char *const[]){__VA_ARGS__, NULL})
#define VALID      "v=1", "tag=" TAG, "role=master", "phase=discovering", "id=" ID

static void assert_rejected(Parsed p, const char *reason)
{
        if (p.r != -EBADMSG)
                print_error("expected rejection '%s', got r=%d\n", reason, p.r);
        assert_int_equal(p.r, -EBADMSG);
        assert_string_equal(p.reason, reason);
}

static void peer_txt_parse__valid__accepted(void **state)
{
        Parsed p = PARSE(VALID);

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
        assert_int_equal(p.t.version, 1);
        assert_string_equal(p.t.tag, TAG);
        assert_int_equal(p.t.role, ROLE_MASTER);
        assert_int_equal(p.t.phase, PHASE_DISCOVERING);
        assert_string_equal(p.t.id, ID);
}

static void peer_txt_encode__roundtrip__same_fields(void **state)
{
        PeerTxt t = {.version = 1, .tag = TAG, .role = ROLE_LB, .phase = PHASE_CONFIGURED, .id = "b827eb0a1b2c"};
        char **l = NULL;
        TxtItem it[8];
        Parsed p = {};
        size_t n;

        assert_int_equal(peer_txt_encode(&t, &l), 0);
        n = strv_length(l);
        assert_int_equal(n, 5);
        assert_string_equal(l[0], "v=1");
        assert_string_equal(l[1], "tag=" TAG);
        assert_string_equal(l[2], "role=lb");
        assert_string_equal(l[3], "phase=configured");
        assert_string_equal(l[4], "id=b827eb0a1b2c");
        for (size_t i = 0; i < n; i++)
                it[i] = (TxtItem){l[i], strlen(l[i])};
        assert_int_equal(peer_txt_parse(it, n, TAG, &p.t, &p.v, p.reason, sizeof p.reason), 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
        assert_int_equal(p.t.version, t.version);
        assert_string_equal(p.t.tag, t.tag);
        assert_int_equal(p.t.role, t.role);
        assert_int_equal(p.t.phase, t.phase);
        assert_string_equal(p.t.id, t.id);
        strv_free(l);
}

static void peer_txt_vip__lb_holding_vip__roundtrip_and_strict(void **state)
{
        PeerTxt t = {.version = 1, .tag = TAG, .role = ROLE_LB, .phase = PHASE_READY, .id = ID, .vip = true};
        char **l = NULL;
        TxtItem it[8];
        Parsed p = {};
        size_t n;

        assert_int_equal(peer_txt_encode(&t, &l), 0);
        n = strv_length(l);
        assert_int_equal(n, 6);
        assert_string_equal(l[5], "vip=1");
        for (size_t i = 0; i < n; i++)
                it[i] = (TxtItem){l[i], strlen(l[i])};
        assert_int_equal(peer_txt_parse(it, n, TAG, &p.t, &p.v, p.reason, sizeof p.reason), 0);
        assert_true(p.t.vip);
        strv_free(l);

        /* Absent or 0: not holding it; anything else: the record is rejected. */
        assert_false(PARSE(VALID).t.vip);
        Parsed zero = PARSE(VALID, "vip=0");
        assert_int_equal(zero.r, 0);
        assert_false(zero.t.vip);
        assert_rejected(PARSE(VALID, "vip=yes"), "bad value for 'vip': 'yes'");
        assert_rejected(PARSE(VALID, "vip=2"), "bad value for 'vip': '2'");
}

static void peer_txt_encode__invalid_fields__einval(void **state)
{
        const PeerTxt good = {.version = 1, .tag = TAG, .role = ROLE_WORKER, .phase = PHASE_JOINING, .id = ID};
        PeerTxt t;
        char **l = NULL;

        t = good, t.version = 2;
        assert_int_equal(peer_txt_encode(&t, &l), -EINVAL);
        t = good, t.tag[0] = 'X';
        assert_int_equal(peer_txt_encode(&t, &l), -EINVAL);
        t = good, t.role = _ROLE_INVALID;
        assert_int_equal(peer_txt_encode(&t, &l), -EINVAL);
        t = good, t.phase = _PHASE_MAX;
        assert_int_equal(peer_txt_encode(&t, &l), -EINVAL);
        t = good, t.phase = PHASE_OTHER; /* a peer's word, never this node's own */
        snprintf(t.phase_other, sizeof t.phase_other, "x");
        assert_int_equal(peer_txt_encode(&t, &l), -EINVAL);
        t = good, t.id[3] = 'g';
        assert_int_equal(peer_txt_encode(&t, &l), -EINVAL);
        assert_null(l);
}

static void peer_txt_parse__item_order_and_unknown_keys__accepted(void **state)
{
        Parsed p =
                PARSE("vip=1", "id=" ID, "future_key-2=anything at all", "phase=x", "role=worker", "tag=" TAG, "v=1");

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
        assert_int_equal(p.t.role, ROLE_WORKER);
}

static void peer_txt_parse__empty_items__skipped(void **state)
{
        Parsed p = PARSE("", "v=1", "", "tag=" TAG, "role=lb", "phase=configured", "id=" ID, "");

        assert_int_equal(p.r, 0);
}

static void peer_txt_parse__no_items__missing_version(void **state)
{
        Parsed p = {};

        p.r = peer_txt_parse(NULL, 0, TAG, &p.t, &p.v, p.reason, sizeof p.reason);
        assert_rejected(p, "missing key 'v'");
}

static void peer_txt_parse__missing_keys__named(void **state)
{
        assert_rejected(PARSE("tag=" TAG, "role=master", "phase=x", "id=" ID), "missing key 'v'");
        assert_rejected(PARSE("v=1", "role=master", "phase=x", "id=" ID), "missing key 'tag'");
        assert_rejected(PARSE("v=1", "tag=" TAG, "phase=x", "id=" ID), "missing key 'role'");
        assert_rejected(PARSE("v=1", "tag=" TAG, "role=lb", "id=" ID), "missing key 'phase'");
        assert_rejected(PARSE("v=1", "tag=" TAG, "role=lb", "phase=x"), "missing key 'id'");
}

static void peer_txt_parse__duplicate_keys__rejected(void **state)
{
        assert_rejected(PARSE(VALID, "role=lb"), "duplicate key 'role'");
        assert_rejected(PARSE(VALID, "id=" ID), "duplicate key 'id'");
        assert_rejected(PARSE("x=1", VALID, "x=2"), "duplicate key 'x'");
        assert_rejected(PARSE("v=1", "v=2", "tag=" TAG), "duplicate key 'v'");
}

static void peer_txt_parse__oversized__rejected(void **state)
{
        char big[300], many[20][8];
        const char *items[24] = {};
        size_t n = 0;

        memset(big, 'a', sizeof big);
        memcpy(big, "junk=", 5);
        big[sizeof big - 1] = 0;
        assert_rejected(PARSE(VALID, big), "item of 299 bytes (at most 255)");

        for (size_t i = 0; i < 20; i++) {
                snprintf(many[i], sizeof many[i], "k%zu=1", i);
                items[n++] = many[i];
        }
        assert_rejected(parse_strv(items), "more than 16 items");

        /* Many items of legal size that add up to too much. */
        char chunk[5][250];
        for (size_t i = 0; i < 5; i++) {
                memset(chunk[i], 'b', sizeof chunk[i]);
                snprintf(chunk[i], 4, "p%zu", i);
                chunk[i][2] = '=';
                chunk[i][sizeof chunk[i] - 1] = 0;
        }
        assert_rejected(PARSE(VALID, chunk[0], chunk[1], chunk[2], chunk[3], chunk[4]),
                        "record larger than 1024 bytes");
}

static void peer_txt_parse__not_key_value__rejected(void **state)
{
        assert_rejected(PARSE(VALID, "vip"), "item 'vip' is not key=value");
        assert_rejected(PARSE(VALID, "=value"), "bad key ''");
        assert_rejected(PARSE(VALID, "Role=lb"), "bad key 'Role'");
        assert_rejected(PARSE(VALID, "a key=1"), "bad key 'a key'");
        assert_rejected(PARSE(VALID, "abcdefghijklmnopq=1"), "bad key 'abcdefghijklmnopq'");
}

static void peer_txt_parse__unprintable__rejected_without_echo(void **state)
{
        TxtItem it[6];
        const char nul_value[] = "role=ma\0ster";
        const char esc_key[] = "\x1b[31m=1";
        const char *const valid[] = {"v=1", "tag=" TAG, "phase=x", "id=" ID};
        Parsed p = {};

        for (size_t i = 0; i < 4; i++)
                it[i] = (TxtItem){valid[i], strlen(valid[i])};
        it[4] = (TxtItem){nul_value, sizeof nul_value - 1};
        p.r = peer_txt_parse(it, 5, TAG, &p.t, &p.v, p.reason, sizeof p.reason);
        assert_rejected(p, "the value of 'role' has a non-printable byte");

        it[4] = (TxtItem){esc_key, sizeof esc_key - 1};
        p.r = peer_txt_parse(it, 5, TAG, &p.t, &p.v, p.reason, sizeof p.reason);
        assert_rejected(p, "bad key '?[31m'");

        assert_rejected(PARSE(VALID, "x=\x7f"), "the value of 'x' has a non-printable byte");
        assert_rejected(PARSE(VALID, "x=caf\xc3\xa9"), "the value of 'x' has a non-printable byte");
}

static void peer_txt_parse__bad_version__rejected(void **state)
{
        assert_rejected(PARSE("v=", "tag=" TAG), "bad value for 'v': ''");
        assert_rejected(PARSE("v=one", "tag=" TAG), "bad value for 'v': 'one'");
        assert_rejected(PARSE("v=01", "tag=" TAG), "bad value for 'v': '01'");
        assert_rejected(PARSE("v=-1", "tag=" TAG), "bad value for 'v': '-1'");
        assert_rejected(PARSE("v=1000", "tag=" TAG), "bad value for 'v': '1000'");
        assert_rejected(PARSE("v=1 ", "tag=" TAG), "bad value for 'v': '1 '");
}

static void peer_txt_parse__other_version__ignored_whatever_follows(void **state)
{
        Parsed p = PARSE("v=2", "tag=NOT-HEX", "role=king", "something=else");

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_VERSION);
        assert_int_equal(p.t.version, 2);
        p = PARSE("v=0");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_VERSION);
}

static void peer_txt_parse__bad_tag__rejected(void **state)
{
        assert_rejected(PARSE("v=1", "tag=76338c64fea54b4"), "bad value for 'tag': '76338c64fea54b4'");
        assert_rejected(PARSE("v=1", "tag=76338C64FEA54B45"), "bad value for 'tag': '76338C64FEA54B45'");
        assert_rejected(PARSE("v=1", "tag=76338c64fea54b4z"), "bad value for 'tag': '76338c64fea54b4z'");
        assert_rejected(PARSE("v=1", "tag=76338c64fea54b45a"), "bad value for 'tag': '76338c64fea54b45a'");
        assert_rejected(PARSE("v=1", "tag="), "bad value for 'tag': ''");
}

static void peer_txt_parse__other_tag__other_cluster(void **state)
{
        Parsed p = PARSE("v=1", "tag=" OTHER, "role=none of our business");

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_CLUSTER);
        assert_string_equal(p.t.tag, OTHER);
}

static void peer_txt_parse__no_expected_tag__other_cluster(void **state)
{
        const char *const v[] = {VALID};
        TxtItem it[5];
        Parsed p = {};

        for (size_t i = 0; i < 5; i++)
                it[i] = (TxtItem){v[i], strlen(v[i])};
        p.r = peer_txt_parse(it, 5, NULL, &p.t, &p.v, p.reason, sizeof p.reason);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_CLUSTER);
}

static void peer_txt_parse__bad_role__rejected(void **state)
{
        const char *const base[] = {"v=1", "tag=" TAG, "phase=x", "id=" ID};

        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role=king"), "bad value for 'role': 'king'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role=Master"), "bad value for 'role': 'Master'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role="), "bad value for 'role': ''");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role=masterxxxxxxxxxxxx"),
                        "bad value for 'role': 'masterxxxxxxxxxxxx'");
}

static void peer_txt_parse__bad_phase__rejected(void **state)
{
        const char *const base[] = {"v=1", "tag=" TAG, "role=lb", "id=" ID};

        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase="), "bad value for 'phase': ''");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase=Ready"), "bad value for 'phase': 'Ready'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase=a b"), "bad value for 'phase': 'a b'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase=abcdefghijklmnopqrstuvwxyz0123456"),
                        "bad value for 'phase': 'abcdefghijklmnopqrstuvwxyz012345...'");
}

static void peer_txt_parse__unknown_phase__other_with_word(void **state)
{
        Parsed p = PARSE("v=1", "tag=" TAG, "role=lb", "id=" ID, "phase=some-future-phase");

        assert_int_equal(p.r, 0);
        assert_int_equal(p.t.phase, PHASE_OTHER);
        assert_string_equal(p.t.phase_other, "some-future-phase");
        assert_string_equal(phase_word(p.t.phase, p.t.phase_other), "some-future-phase");
}

static void peer_txt_parse__every_phase__parsed_to_its_enum(void **state)
{
        for (Phase ph = 0; ph < _PHASE_MAX; ph++) {
                char item[64];
                if (!phase_to_string(ph))
                        continue;
                snprintf(item, sizeof item, "phase=%s", phase_to_string(ph));
                Parsed p = PARSE("v=1", "tag=" TAG, "role=master", "id=" ID, item);
                assert_int_equal(p.r, 0);
                assert_int_equal(p.t.phase, ph);
                assert_string_equal(p.t.phase_other, "");
        }
}

static void peer_txt_parse__bad_id__rejected(void **state)
{
        const char *const base[] = {"v=1", "tag=" TAG, "role=lb", "phase=x"};

        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "id="), "bad value for 'id': ''");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "id=02770000000"),
                        "bad value for 'id': '02770000000'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "id=0277000000011"),
                        "bad value for 'id': '0277000000011'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "id=02770000000A"),
                        "bad value for 'id': '02770000000A'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "id=02:77:00:00"),
                        "bad value for 'id': '02:77:00:00'");
}

static void peer_txt_parse__reason_buffer_small__truncated_safely(void **state)
{
        const char *const v[] = {"v=1", "tag=" TAG, "role=king"};
        TxtItem it[3];
        char reason[8];
        PeerTxtVerdict verdict;
        PeerTxt t;

        for (size_t i = 0; i < 3; i++)
                it[i] = (TxtItem){v[i], strlen(v[i])};
        assert_int_equal(peer_txt_parse(it, 3, TAG, &t, &verdict, reason, sizeof reason), -EBADMSG);
        assert_int_equal(strlen(reason), sizeof reason - 1);
        assert_int_equal(peer_txt_parse(it, 3, TAG, &t, &verdict, NULL, 0), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(peer_txt_parse__valid__accepted),
                cmocka_unit_test(peer_txt_encode__roundtrip__same_fields),
                cmocka_unit_test(peer_txt_vip__lb_holding_vip__roundtrip_and_strict),
                cmocka_unit_test(peer_txt_encode__invalid_fields__einval),
                cmocka_unit_test(peer_txt_parse__item_order_and_unknown_keys__accepted),
                cmocka_unit_test(peer_txt_parse__empty_items__skipped),
                cmocka_unit_test(peer_txt_parse__no_items__missing_version),
                cmocka_unit_test(peer_txt_parse__missing_keys__named),
                cmocka_unit_test(peer_txt_parse__duplicate_keys__rejected),
                cmocka_unit_test(peer_txt_parse__oversized__rejected),
                cmocka_unit_test(peer_txt_parse__not_key_value__rejected),
                cmocka_unit_test(peer_txt_parse__unprintable__rejected_without_echo),
                cmocka_unit_test(peer_txt_parse__bad_version__rejected),
                cmocka_unit_test(peer_txt_parse__other_version__ignored_whatever_follows),
                cmocka_unit_test(peer_txt_parse__bad_tag__rejected),
                cmocka_unit_test(peer_txt_parse__other_tag__other_cluster),
                cmocka_unit_test(peer_txt_parse__no_expected_tag__other_cluster),
                cmocka_unit_test(peer_txt_parse__bad_role__rejected),
                cmocka_unit_test(peer_txt_parse__bad_phase__rejected),
                cmocka_unit_test(peer_txt_parse__unknown_phase__other_with_word),
                cmocka_unit_test(peer_txt_parse__every_phase__parsed_to_its_enum),
                cmocka_unit_test(peer_txt_parse__bad_id__rejected),
                cmocka_unit_test(peer_txt_parse__reason_buffer_small__truncated_safely),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
