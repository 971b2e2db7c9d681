/* SPDX-License-Identifier: MIT */
/* The _piagent._tcp TXT record: encoding and signing, and every way a record from the network can be wrong:
 * malformed, unsigned, signed with another key, for another place, or copied to another address. */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "peer-txt.h"
#include "secret.h"
#include "strv.h"

/* The vectors come from the Python implementation in tests/cluster/discovery_util.py (txt_mac) with this
 * secret, i.e. from the documented construction (docs/discovery.md), not from this code. */
#define SECRET  "correct horse battery staple, a test secret"
#define TAG     "62633a2f4a8141da"
#define OTHER   "0123456789abcdef"
#define ID      "027700000001"
#define ADDR    "10.77.0.11"
#define SERVICE "master-000001"
#define HOST    "master-000001.local"
#define PORT    9470

static uint8_t key[PEER_TXT_KEY_SIZE];

typedef struct Parsed {
        int r;
        PeerTxt t;
        PeerTxtVerdict v;
        char reason[PEER_TXT_REASON_MAX];
} Parsed;

static PeerTxtPlace place(void)
{
        PeerTxtPlace p = {.service = SERVICE, .host = HOST, .port = PORT};

        inet_pton(AF_INET, ADDR, &p.address);
        return p;
}

static Parsed parse_at(const char *const *items, const PeerTxtPlace *pl, const uint8_t *k)
{
        TxtItem it[64];
        size_t n = 0;
        Parsed p = {.v = _PEER_TXT_VERDICT_MAX};

        for (; items[n]; n++)
                it[n] = (TxtItem){items[n], strlen(items[n])};
        p.r = peer_txt_parse(it, n, TAG, k, pl, &p.t, &p.v, p.reason, sizeof p.reason);
        return p;
}

/* Parses NULL-terminated C strings as TXT items, announced at the usual place. */
static Parsed parse_strv(const char *const *items)
{
        PeerTxtPlace pl = place();

        return parse_at(items, &pl, key);
}

static int key_of(const void *a, const void *b)
{
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        size_t kx = strcspn(x, "="), ky = strcspn(y, "=");
        int c = strncmp(x, y, kx < ky ? kx : ky);

        return c != 0 ? c : (int)kx - (int)ky;
}

/* A second, independent signer (the construction of docs/discovery.md written out again), so that a test record
 * can be signed whatever it holds: items plus "mac=...", in a static buffer. */
static const char *const *sign_for(const char *const *items, const char *service, const char *host, uint16_t port)
{
        static char mac_item[40];
        static const char *out[64];
        const char *sorted[64];
        uint8_t buf[4096], d[32];
        size_t n = 0, len = 0;

        memcpy(buf, "piagent-txt", 12); /* with its NUL */
        len = 12;
        buf[len++] = 2;
        buf[len++] = (uint8_t)strlen(service);
        memcpy(buf + len, service, strlen(service));
        len += strlen(service);
        buf[len++] = (uint8_t)strlen(host);
        memcpy(buf + len, host, strlen(host));
        len += strlen(host);
        buf[len++] = (uint8_t)(port >> 8);
        buf[len++] = (uint8_t)port;
        size_t k = 0;
        for (; items[n]; n++) {
                out[n] = items[n];
                if (items[n][0]) /* empty strings are no items (DNS-SD's empty record) */
                        sorted[k++] = items[n];
        }
        qsort(sorted, k, sizeof *sorted, key_of);
        for (size_t i = 0; i < k; i++) {
                buf[len++] = (uint8_t)strlen(sorted[i]);
                memcpy(buf + len, sorted[i], strlen(sorted[i]));
                len += strlen(sorted[i]);
        }
        assert_int_equal(crypto_hmac_sha256(key, sizeof key, buf, len, d), 0);
        memcpy(mac_item, "mac=", 4);
        hex_encode(d, 16, mac_item + 4);
        out[n] = mac_item;
        out[n + 1] = NULL;
        return out;
}

static const char *const *sign(const char *const *items)
{
        return sign_for(items, SERVICE, HOST, PORT);
}

#define PARSE(...)        parse_strv((const char *const[]){__VA_ARGS__, NULL})
#define PARSE_SIGNED(...) parse_strv(sign((const char *const[]){__VA_ARGS__, NULL}))
#define FIELDS            "v=2", "tag=" TAG, "role=master", "phase=electing", "id=" ID
#define SIGNATURE         "addr=" ADDR, "seq=7.3"
#define VALID             FIELDS, SIGNATURE

static int setup(void **state)
{
        return peer_txt_key(SECRET, key) == 0 ? 0 : -1;
}

static void assert_rejected(Parsed p, const char *reason)
{
        if (p.r != -EBADMSG)
                print_error("expected rejection '%s', got r=%d\n", reason, p.r);
        assert_int_equal(p.r, -EBADMSG);
        assert_string_equal(p.reason, reason);
}

static void peer_txt_key__vector__matches_python(void **state)
{
        char hex[2 * PEER_TXT_KEY_SIZE + 1];

        hex_encode(key, sizeof key, hex);
        assert_string_equal(hex, "6471c6526d0f6e034e50391ddc985822ef9652b3d4d0b1203463302bde6ab872");
        assert_int_equal(peer_txt_key("", key + 0), -EINVAL);
        assert_int_equal(peer_txt_key(NULL, key + 0), -EINVAL);
}

static void peer_txt_parse__valid__accepted(void **state)
{
        Parsed p = PARSE(VALID, "mac=a347bb56f40aa15cbe7001f0d4f5f229");

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
        assert_int_equal(p.t.version, 2);
        assert_string_equal(p.t.tag, TAG);
        assert_int_equal(p.t.role, ROLE_MASTER);
        assert_int_equal(p.t.phase, PHASE_ELECTING);
        assert_string_equal(p.t.id, ID);
        assert_string_equal(inet_ntoa(p.t.address), ADDR);
        assert_int_equal(p.t.seq.boot, 7);
        assert_int_equal(p.t.seq.n, 3);
        /* The test's own signer agrees with the vector. */
        assert_string_equal(sign((const char *const[]){VALID, NULL})[7], "mac=a347bb56f40aa15cbe7001f0d4f5f229");
}

static PeerTxt good_txt(void)
{
        PeerTxt t = {.version = 2, .tag = TAG, .role = ROLE_MASTER, .phase = PHASE_ELECTING, .id = ID, .seq = {7, 3}};

        inet_pton(AF_INET, ADDR, &t.address);
        return t;
}

static void peer_txt_encode__roundtrip__same_fields_and_vector(void **state)
{
        PeerTxt t = good_txt();
        PeerTxtPlace pl = place();
        char **l = NULL;
        Parsed p;

        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), 0);
        assert_int_equal(strv_length(l), 8);
        assert_string_equal(l[0], "v=2");
        assert_string_equal(l[1], "tag=" TAG);
        assert_string_equal(l[2], "role=master");
        assert_string_equal(l[3], "phase=electing");
        assert_string_equal(l[4], "id=" ID);
        assert_string_equal(l[5], "addr=" ADDR);
        assert_string_equal(l[6], "seq=7.3");
        assert_string_equal(l[7], "mac=a347bb56f40aa15cbe7001f0d4f5f229");
        p = parse_strv((const char *const *)l);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
        assert_int_equal(p.t.role, t.role);
        assert_int_equal(p.t.phase, t.phase);
        assert_string_equal(p.t.id, t.id);
        assert_int_equal(p.t.address.s_addr, t.address.s_addr);
        assert_int_equal(peer_seq_compare(p.t.seq, t.seq), 0);
        strv_free(l);
}

static void peer_txt_encode__renamed_host_case_and_dot__vector(void **state)
{
        PeerTxt t = good_txt();
        PeerTxtPlace pl = {.service = "lb-000001 #2", .host = "LB-000001.local.", .port = PORT};
        char **l = NULL;

        t.role = ROLE_LB, t.phase = PHASE_READY, t.vip = true;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), 0);
        assert_int_equal(strv_length(l), 9);
        assert_string_equal(l[7], "vip=1");
        assert_string_equal(l[8], "mac=17171143eece4933affabe43f2060c88");
        /* The receiver sees the host as avahi reports it: case and a final dot do not matter. */
        pl.host = "lb-000001.local";
        inet_pton(AF_INET, ADDR, &pl.address);
        Parsed p = parse_at((const char *const *)l, &pl, key);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
        assert_true(p.t.vip);
        strv_free(l);
}

static void peer_txt_parse__any_item_changed__forged(void **state)
{
        PeerTxt t = good_txt();
        PeerTxtPlace pl = place();
        char **l = NULL;

        t.vip = true, t.role = ROLE_LB;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), 0);
        for (size_t i = 0; l[i] && strncmp(l[i], "mac=", 4) != 0; i++) {
                char *saved = l[i], changed[64];
                PeerTxtVerdict want = PEER_TXT_FORGED;

                /* Another value of the same shape: the MAC must be what refuses it. */
                snprintf(changed, sizeof changed, "%s", saved);
                char *last = changed + strlen(changed) - 1;
                *last = *last == '1' ? '2' : *last == '2' ? '3' : *last == 'a' ? 'b' : '1';
                if (strncmp(saved, "role=", 5) == 0)
                        snprintf(changed, sizeof changed, "role=master");
                else if (strncmp(saved, "phase=", 6) == 0)
                        snprintf(changed, sizeof changed, "phase=ready");
                else if (strncmp(saved, "vip=", 4) == 0)
                        snprintf(changed, sizeof changed, "vip=0");
                else if (strncmp(saved, "v=", 2) == 0)
                        want = PEER_TXT_OTHER_VERSION;
                else if (strncmp(saved, "tag=", 4) == 0)
                        want = PEER_TXT_OTHER_CLUSTER;
                l[i] = changed;
                Parsed p = parse_strv((const char *const *)l);
                l[i] = saved;
                if (p.r != 0 || p.v != want)
                        print_error("item %zu changed to '%s': r=%d verdict %d (%s)\n", i, changed, p.r, p.v, p.reason);
                assert_int_equal(p.r, 0);
                assert_int_equal(p.v, want);
                if (want == PEER_TXT_FORGED)
                        assert_string_equal(p.reason, "not signed with this cluster's secret");
        }
        strv_free(l);
}

static void peer_txt_parse__another_place__forged(void **state)
{
        const char *const *signed_items = sign((const char *const[]){VALID, NULL});
        PeerTxtPlace pl = place();
        const char *const *copy;
        char *items[16] = {};
        Parsed p;

        for (size_t i = 0; signed_items[i]; i++)
                items[i] = strdup(signed_items[i]);
        copy = (const char *const *)items;
        assert_int_equal(parse_at(copy, &pl, key).v, PEER_TXT_ACCEPT);
        pl = place(), pl.service = "master-000001 #2";
        assert_int_equal(parse_at(copy, &pl, key).v, PEER_TXT_FORGED);
        pl = place(), pl.host = "master-000002.local";
        assert_int_equal(parse_at(copy, &pl, key).v, PEER_TXT_FORGED);
        pl = place(), pl.port = PORT + 1;
        assert_int_equal(parse_at(copy, &pl, key).v, PEER_TXT_FORGED);
        pl = place(), pl.host = "";
        assert_int_equal(parse_at(copy, &pl, key).v, PEER_TXT_FORGED);

        /* Another address: signed, but copied there. */
        pl = place();
        inet_pton(AF_INET, "10.77.0.15", &pl.address);
        p = parse_at(copy, &pl, key);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_MISPLACED);
        assert_string_equal(p.reason, "signed for 10.77.0.11, announced at 10.77.0.15");

        /* Another key (another secret, same tag: a forger who knows only the tag). */
        uint8_t other[PEER_TXT_KEY_SIZE];
        assert_int_equal(peer_txt_key("another secret", other), 0);
        pl = place();
        p = parse_at(copy, &pl, other);
        assert_int_equal(p.v, PEER_TXT_FORGED);
        /* What a forged record claims is parsed (to be shown), not trusted. */
        assert_string_equal(p.t.id, ID);
        assert_int_equal(p.t.role, ROLE_MASTER);
        for (size_t i = 0; items[i]; i++)
                free(items[i]);
}

static void peer_txt_parse__place_too_long__forged(void **state)
{
        char host[300];
        PeerTxtPlace pl = place();

        memset(host, 'h', sizeof host - 1);
        host[sizeof host - 1] = 0;
        pl.host = host;
        Parsed p = parse_at(sign((const char *const[]){VALID, NULL}), &pl, key);
        assert_int_equal(p.v, PEER_TXT_FORGED);
        assert_string_equal(p.reason, "service or host name too long to be signed");
}

static void peer_txt_vip__lb_holding_vip__strict(void **state)
{
        /* Absent or 0: not holding it; anything else: the record is rejected. */
        assert_false(PARSE_SIGNED(VALID).t.vip);
        Parsed zero = PARSE_SIGNED(VALID, "vip=0");
        assert_int_equal(zero.r, 0);
        assert_int_equal(zero.v, PEER_TXT_ACCEPT);
        assert_false(zero.t.vip);
        assert_true(PARSE_SIGNED(VALID, "vip=1").t.vip);
        assert_rejected(PARSE_SIGNED(VALID, "vip=yes"), "bad value for 'vip': 'yes'");
        assert_rejected(PARSE_SIGNED(VALID, "vip=2"), "bad value for 'vip': '2'");
}

static void peer_txt_encode__invalid_fields__einval(void **state)
{
        const PeerTxt good = good_txt();
        PeerTxtPlace pl = place();
        PeerTxt t;
        char **l = NULL;

        t = good, t.version = 1;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.tag[0] = 'X';
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.role = _ROLE_INVALID;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.phase = _PHASE_MAX;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.phase = PHASE_OTHER; /* a peer's word, never this node's own */
        snprintf(t.phase_other, sizeof t.phase_other, "x");
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.id[3] = 'g';
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.address.s_addr = 0;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.seq.boot = 0;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, t.seq.n = 0;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        t = good, pl.service = NULL;
        assert_int_equal(peer_txt_encode(&t, key, &pl, &l), -EINVAL);
        assert_null(l);
}

static void peer_txt_parse__item_order_and_unknown_keys__accepted(void **state)
{
        Parsed p = parse_strv(
                sign((const char *const[]){"vip=1", "seq=1.1", "id=" ID, "future_key-2=anything at all", "addr=" ADDR,
                                           "phase=x", "role=worker", "tag=" TAG, "v=2", NULL}));

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
        assert_int_equal(p.t.role, ROLE_WORKER);

        /* An item added to a signed record: not covered, so refused. */
        const char *const *s = sign((const char *const[]){VALID, NULL});
        const char *with_extra[16] = {"extra=1"};
        for (size_t i = 0; s[i]; i++)
                with_extra[i + 1] = s[i];
        assert_int_equal(parse_strv(with_extra).v, PEER_TXT_FORGED);
}

static void peer_seq__parse_and_order(void **state)
{
        PeerSeq q;

        assert_int_equal(peer_seq_parse("1.1", &q), 0);
        assert_int_equal(q.boot, 1);
        assert_int_equal(q.n, 1);
        assert_int_equal(peer_seq_parse("4294967295.4294967295", &q), 0);
        assert_int_equal(q.boot, UINT32_MAX);
        assert_int_equal(peer_seq_parse("4294967296.1", &q), -EINVAL);
        assert_int_equal(peer_seq_parse("0.1", &q), -EINVAL);
        assert_int_equal(peer_seq_parse("1.0", &q), -EINVAL);
        assert_int_equal(peer_seq_parse("01.1", &q), -EINVAL);
        assert_int_equal(peer_seq_parse("1.", &q), -EINVAL);
        assert_int_equal(peer_seq_parse(".1", &q), -EINVAL);
        assert_int_equal(peer_seq_parse("1", &q), -EINVAL);
        assert_int_equal(peer_seq_parse("1.1.1", &q), -EINVAL);
        assert_int_equal(peer_seq_parse("1.+1", &q), -EINVAL);
        assert_int_equal(peer_seq_parse(NULL, &q), -EINVAL);
        assert_true(peer_seq_compare((PeerSeq){1, 9}, (PeerSeq){2, 1}) < 0);
        assert_true(peer_seq_compare((PeerSeq){2, 1}, (PeerSeq){1, 9}) > 0);
        assert_true(peer_seq_compare((PeerSeq){2, 3}, (PeerSeq){2, 4}) < 0);
        assert_int_equal(peer_seq_compare((PeerSeq){2, 3}, (PeerSeq){2, 3}), 0);
}

static void peer_txt_parse__bad_signature_fields__rejected(void **state)
{
        assert_rejected(PARSE(FIELDS, "seq=1.1", "mac=a347bb56f40aa15cbe7001f0d4f5f229"), "missing key 'addr'");
        assert_rejected(PARSE(FIELDS, "addr=" ADDR, "mac=a347bb56f40aa15cbe7001f0d4f5f229"), "missing key 'seq'");
        assert_rejected(PARSE(VALID), "missing key 'mac'");
        assert_rejected(PARSE(FIELDS, "addr=10.77.0.011", "seq=1.1", "mac=00"), "bad value for 'addr': '10.77.0.011'");
        assert_rejected(PARSE(FIELDS, "addr=10.77.0", "seq=1.1", "mac=00"), "bad value for 'addr': '10.77.0'");
        assert_rejected(PARSE(FIELDS, "addr=0.0.0.0", "seq=1.1", "mac=00"), "bad value for 'addr': '0.0.0.0'");
        assert_rejected(PARSE(FIELDS, "addr=::1", "seq=1.1", "mac=00"), "bad value for 'addr': '::1'");
        assert_rejected(PARSE(FIELDS, "addr=" ADDR, "seq=1", "mac=00"), "bad value for 'seq': '1'");
        assert_rejected(PARSE(FIELDS, "addr=" ADDR, "seq=0.0", "mac=00"), "bad value for 'seq': '0.0'");
        assert_rejected(PARSE(VALID, "mac=00"), "bad value for 'mac': '00'");
        assert_rejected(PARSE(VALID, "mac=A347BB56F40AA15CBE7001F0D4F5F229"),
                        "bad value for 'mac': 'A347BB56F40AA15CBE7001F0D4F5F229'");
        assert_rejected(PARSE(VALID, "mac=a347bb56f40aa15cbe7001f0d4f5f2290"),
                        "bad value for 'mac': 'a347bb56f40aa15cbe7001f0d4f5f229...'");
}

static void peer_txt_parse__empty_items__skipped(void **state)
{
        Parsed p = PARSE_SIGNED("", "v=2", "", "tag=" TAG, "role=lb", "phase=configured", "id=" ID, "", SIGNATURE);

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
}

static void peer_txt_parse__no_items__missing_version(void **state)
{
        Parsed p = {};

        PeerTxtPlace pl = place();

        p.r = peer_txt_parse(NULL, 0, TAG, key, &pl, &p.t, &p.v, p.reason, sizeof p.reason);
        assert_rejected(p, "missing key 'v'");
}

static void peer_txt_parse__missing_keys__named(void **state)
{
        assert_rejected(PARSE("tag=" TAG, "role=master", "phase=x", "id=" ID), "missing key 'v'");
        assert_rejected(PARSE("v=2", "role=master", "phase=x", "id=" ID), "missing key 'tag'");
        assert_rejected(PARSE("v=2", "tag=" TAG, "phase=x", "id=" ID), "missing key 'role'");
        assert_rejected(PARSE("v=2", "tag=" TAG, "role=lb", "id=" ID), "missing key 'phase'");
        assert_rejected(PARSE("v=2", "tag=" TAG, "role=lb", "phase=x"), "missing key 'id'");
}

static void peer_txt_parse__duplicate_keys__rejected(void **state)
{
        assert_rejected(PARSE(VALID, "role=lb"), "duplicate key 'role'");
        assert_rejected(PARSE(VALID, "id=" ID), "duplicate key 'id'");
        assert_rejected(PARSE("x=1", VALID, "x=2"), "duplicate key 'x'");
        assert_rejected(PARSE("v=2", "v=2", "tag=" TAG), "duplicate key 'v'");
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
        const char *const valid[] = {"v=2", "tag=" TAG, "phase=x", "id=" ID};
        PeerTxtPlace pl = place();
        Parsed p = {};

        for (size_t i = 0; i < 4; i++)
                it[i] = (TxtItem){valid[i], strlen(valid[i])};
        it[4] = (TxtItem){nul_value, sizeof nul_value - 1};
        p.r = peer_txt_parse(it, 5, TAG, key, &pl, &p.t, &p.v, p.reason, sizeof p.reason);
        assert_rejected(p, "the value of 'role' has a non-printable byte");

        it[4] = (TxtItem){esc_key, sizeof esc_key - 1};
        p.r = peer_txt_parse(it, 5, TAG, key, &pl, &p.t, &p.v, p.reason, sizeof p.reason);
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
        Parsed p = PARSE("v=3", "tag=NOT-HEX", "role=king", "something=else");

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_VERSION);
        assert_int_equal(p.t.version, 3);
        assert_string_equal(p.t.tag, "");
        assert_string_equal(p.reason, "protocol version 3, not 2");
        p = PARSE("v=0");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_VERSION);

        /* A version-1 agent of this cluster: its tag is kept, so that it can be shown as such. */
        p = PARSE("v=1", "tag=" TAG, "role=master", "phase=ready", "id=" ID);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_VERSION);
        assert_string_equal(p.t.tag, TAG);
        assert_string_equal(p.reason, "protocol version 1 (unsigned records), not 2");
}

static void peer_txt_parse__bad_tag__rejected(void **state)
{
        assert_rejected(PARSE("v=2", "tag=76338c64fea54b4"), "bad value for 'tag': '76338c64fea54b4'");
        assert_rejected(PARSE("v=2", "tag=76338C64FEA54B45"), "bad value for 'tag': '76338C64FEA54B45'");
        assert_rejected(PARSE("v=2", "tag=76338c64fea54b4z"), "bad value for 'tag': '76338c64fea54b4z'");
        assert_rejected(PARSE("v=2", "tag=76338c64fea54b45a"), "bad value for 'tag': '76338c64fea54b45a'");
        assert_rejected(PARSE("v=2", "tag="), "bad value for 'tag': ''");
}

static void peer_txt_parse__other_tag__other_cluster(void **state)
{
        Parsed p = PARSE("v=2", "tag=" OTHER, "role=none of our business");

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_CLUSTER);
        assert_string_equal(p.t.tag, OTHER);
        assert_string_equal(p.reason, "another cluster (tag 0123456789abcdef)");
}

static void peer_txt_parse__no_expected_tag__other_cluster(void **state)
{
        const char *const v[] = {VALID};
        PeerTxtPlace pl = place();
        TxtItem it[7];
        Parsed p = {};

        for (size_t i = 0; i < 7; i++)
                it[i] = (TxtItem){v[i], strlen(v[i])};
        p.r = peer_txt_parse(it, 7, NULL, key, &pl, &p.t, &p.v, p.reason, sizeof p.reason);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_OTHER_CLUSTER);
}

static void peer_txt_parse__bad_role__rejected(void **state)
{
        const char *const base[] = {"v=2", "tag=" TAG, "phase=x", "id=" ID};

        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role=king"), "bad value for 'role': 'king'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role=Master"), "bad value for 'role': 'Master'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role="), "bad value for 'role': ''");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "role=masterxxxxxxxxxxxx"),
                        "bad value for 'role': 'masterxxxxxxxxxxxx'");
}

static void peer_txt_parse__bad_phase__rejected(void **state)
{
        const char *const base[] = {"v=2", "tag=" TAG, "role=lb", "id=" ID};

        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase="), "bad value for 'phase': ''");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase=Ready"), "bad value for 'phase': 'Ready'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase=a b"), "bad value for 'phase': 'a b'");
        assert_rejected(PARSE(base[0], base[1], base[2], base[3], "phase=abcdefghijklmnopqrstuvwxyz0123456"),
                        "bad value for 'phase': 'abcdefghijklmnopqrstuvwxyz012345...'");
}

static void peer_txt_parse__unknown_phase__other_with_word(void **state)
{
        Parsed p = PARSE_SIGNED("v=2", "tag=" TAG, "role=lb", "id=" ID, "phase=some-future-phase", SIGNATURE);

        assert_int_equal(p.r, 0);
        assert_int_equal(p.v, PEER_TXT_ACCEPT);
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
                Parsed p = PARSE_SIGNED("v=2", "tag=" TAG, "role=master", "id=" ID, item, SIGNATURE);
                assert_int_equal(p.r, 0);
                assert_int_equal(p.v, PEER_TXT_ACCEPT);
                assert_int_equal(p.t.phase, ph);
                assert_string_equal(p.t.phase_other, "");
        }
}

static void peer_txt_parse__bad_id__rejected(void **state)
{
        const char *const base[] = {"v=2", "tag=" TAG, "role=lb", "phase=x"};

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
        const char *const v[] = {"v=2", "tag=" TAG, "role=king"};
        PeerTxtPlace pl = place();
        TxtItem it[3];
        char reason[8];
        PeerTxtVerdict verdict;
        PeerTxt t;

        for (size_t i = 0; i < 3; i++)
                it[i] = (TxtItem){v[i], strlen(v[i])};
        assert_int_equal(peer_txt_parse(it, 3, TAG, key, &pl, &t, &verdict, reason, sizeof reason), -EBADMSG);
        assert_int_equal(strlen(reason), sizeof reason - 1);
        assert_int_equal(peer_txt_parse(it, 3, TAG, key, &pl, &t, &verdict, NULL, 0), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(peer_txt_key__vector__matches_python),
                cmocka_unit_test(peer_txt_parse__valid__accepted),
                cmocka_unit_test(peer_txt_encode__roundtrip__same_fields_and_vector),
                cmocka_unit_test(peer_txt_encode__renamed_host_case_and_dot__vector),
                cmocka_unit_test(peer_txt_parse__any_item_changed__forged),
                cmocka_unit_test(peer_txt_parse__another_place__forged),
                cmocka_unit_test(peer_txt_parse__place_too_long__forged),
                cmocka_unit_test(peer_txt_vip__lb_holding_vip__strict),
                cmocka_unit_test(peer_txt_encode__invalid_fields__einval),
                cmocka_unit_test(peer_txt_parse__item_order_and_unknown_keys__accepted),
                cmocka_unit_test(peer_seq__parse_and_order),
                cmocka_unit_test(peer_txt_parse__bad_signature_fields__rejected),
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
        return cmocka_run_group_tests(tests, setup, NULL);
}
