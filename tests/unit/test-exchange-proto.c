/* SPDX-License-Identifier: MIT */
/* The exchange's protocol core: names, transcript, keys, MAC, sealed answers. The known answers come from
 * tests/unit/exchange-vectors.py (Python's hmac/hashlib and the cryptography package), an implementation
 * independent of OpenSSL's EVP calls used here, and from RFC 8439 for the AEAD itself. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "crypto.h"
#include "exchange-proto.h"
#include "macro.h"
#include "secret.h"

#define SECRET "0123456789abcdefghijklmnopqrstuvwxyzABCD"

#define MAC_KEY    "c7d1afbe6eca09074be4eddc86ec7c63bda980a78121f57432000c50ae400044"
#define MAC_JOIN   "3ae045cdd379c3036c807df58f10293cfffb21b62199725492c99cc0c269e31c"
#define MAC_JOINED "6ec991d5b97b318b74047bd24caad5d96f7cabd40fb3e0e1ae0901dd14f7f0a4"
#define MAC_VOTE   "0b783bebb512ff38f75bd7980ab2e438ec275998afbc2d727c27c5c51cc3c583"
#define ANSWER_KEY "8ad279a4364e75e8a0b94c952d8693425dab180466517b6fbc3a5d461db4a4ce"
#define TRANSCRIPT_JOIN                                                                                                \
        "70696167656e742d65786368616e67650001000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223" \
        "2425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f046a6f696e0d776f726b65722d61316232633306776f726b6572" \
        "00"
#define SEALED_PLAIN "{\"v\":1,\"op\":\"joined\",\"server\":\"master-1\"}"
#define SEALED                                                                                                         \
        "4242424242424242424242428738cd6f60c7adfb0f0c072ffabb7d01f0627f7b1d40b8c9ba79683502e3618fe05612f2647d5aafcd6d" \
        "833c63f54a5935e530769d7fe4dbeb"

static void hex(const void *data, size_t size, char *out)
{
        hex_encode(data, size, out);
}

static ExchangeRequest request(ExchangeOp op, const char *node, ExchangeRole role, ExchangeResult result)
{
        ExchangeRequest r = {.version = EXCHANGE_VERSION, .op = op, .role = role, .result = result};

        strcpy(r.node, node);
        for (int i = 0; i < EXCHANGE_NONCE_SIZE; i++) {
                r.server_nonce[i] = (uint8_t)i;
                r.client_nonce[i] = (uint8_t)(32 + i);
        }
        return r;
}

static void crypto_aead_seal__rfc8439_vector__expected(void **state)
{
        /* RFC 8439, 2.8.2 */
        static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
                                 "the future, sunscreen would be it.";
        static const char expected[] =
                "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71"
                "de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def0"
                "8e4b7a9de576d26586cec64b61161ae10b594f09e26a7e902ecbd0600691";
        uint8_t key[32], nonce[12], aad[12], out[sizeof pt - 1 + 16], back[sizeof pt - 1];
        char h[2 * sizeof out + 1];

        for (int i = 0; i < 32; i++)
                key[i] = (uint8_t)(0x80 + i);
        assert_int_equal(exchange_hex_decode("070000004041424344454647", 24, nonce, 12), 0);
        assert_int_equal(exchange_hex_decode("50515253c0c1c2c3c4c5c6c7", 24, aad, 12), 0);

        assert_int_equal(crypto_aead_seal(key, nonce, aad, sizeof aad, pt, sizeof pt - 1, out), 0);
        hex(out, sizeof out, h);
        assert_string_equal(h, expected);

        assert_int_equal(crypto_aead_open(key, nonce, aad, sizeof aad, out, sizeof out, back), 0);
        assert_memory_equal(back, pt, sizeof back);
}

static void crypto_aead_open__any_bit_flipped__ebadmsg_and_output_wiped(void **state)
{
        uint8_t key[32] = {1}, nonce[12] = {2}, box[5 + 16], out[5];

        assert_int_equal(crypto_aead_seal(key, nonce, "ad", 2, "hello", 5, box), 0);
        for (size_t bit = 0; bit < 8 * sizeof box; bit++) {
                box[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                memset(out, 0x55, sizeof out);
                assert_int_equal(crypto_aead_open(key, nonce, "ad", 2, box, sizeof box, out), -EBADMSG);
                for (size_t i = 0; i < sizeof out; i++)
                        assert_int_equal(out[i], 0);
                box[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        assert_int_equal(crypto_aead_open(key, nonce, "ad", 2, box, sizeof box, out), 0);
        assert_int_equal(crypto_aead_open(key, nonce, "aD", 2, box, sizeof box, out), -EBADMSG);
        assert_int_equal(crypto_aead_open(key, nonce, "ad", 2, box, 15, out), -EBADMSG);
}

static void crypto_random_bytes__two_draws__differ(void **state)
{
        uint8_t a[32], b[32];

        assert_int_equal(crypto_random_bytes(a, sizeof a), 0);
        assert_int_equal(crypto_random_bytes(b, sizeof b), 0);
        assert_memory_not_equal(a, b, sizeof a);
}

static void exchange_names__round_trip__every_value(void **state)
{
        for (ExchangeOp op = 0; op < _EXCHANGE_OP_MAX; op++)
                assert_int_equal(exchange_op_from_string(exchange_op_to_string(op)), op);
        for (ExchangeRole r = 0; r < _EXCHANGE_ROLE_MAX; r++)
                assert_int_equal(exchange_role_from_string(exchange_role_to_string(r)), r);
        for (ExchangeResult r = 0; r < _EXCHANGE_RESULT_MAX; r++)
                assert_int_equal(exchange_result_from_string(exchange_result_to_string(r)), r);
        assert_string_equal(exchange_role_to_string(EXCHANGE_ROLE_CONTROL_PLANE), "control-plane");
        assert_int_equal(exchange_op_from_string("JOIN"), -EINVAL);
        assert_int_equal(exchange_op_from_string(NULL), -EINVAL);
        assert_null(exchange_op_to_string(_EXCHANGE_OP_MAX));
        assert_null(exchange_role_to_string(-1));
}

static void exchange_node_valid__host_names__accepted_others_refused(void **state)
{
        char long_name[EXCHANGE_NODE_MAX + 2];

        assert_true(exchange_node_valid("worker-a1b2c3"));
        assert_true(exchange_node_valid("m.1_x"));
        assert_false(exchange_node_valid(""));
        assert_false(exchange_node_valid("a b"));
        assert_false(exchange_node_valid("a/b"));
        assert_false(exchange_node_valid("caf\xc3\xa9"));
        memset(long_name, 'a', sizeof long_name - 1);
        long_name[sizeof long_name - 1] = 0;
        assert_false(exchange_node_valid(long_name));
        long_name[EXCHANGE_NODE_MAX] = 0;
        assert_true(exchange_node_valid(long_name));
}

static void exchange_request_check__role_and_result__per_operation(void **state)
{
        ExchangeRequest r = request(EXCHANGE_OP_JOIN, "n", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_NONE);

        assert_int_equal(exchange_request_check(&r), 0);
        r.role = EXCHANGE_ROLE_NONE;
        assert_int_equal(exchange_request_check(&r), -EINVAL);
        r = request(EXCHANGE_OP_JOIN, "n", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_OK);
        assert_int_equal(exchange_request_check(&r), -EINVAL);
        r = request(EXCHANGE_OP_JOINED, "n", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_FAILED);
        assert_int_equal(exchange_request_check(&r), 0);
        r.result = EXCHANGE_RESULT_NONE;
        assert_int_equal(exchange_request_check(&r), -EINVAL);
        r = request(EXCHANGE_OP_VOTE, "n", EXCHANGE_ROLE_NONE, EXCHANGE_RESULT_NONE);
        assert_int_equal(exchange_request_check(&r), 0);
        r.role = EXCHANGE_ROLE_CONTROL_PLANE;
        assert_int_equal(exchange_request_check(&r), -EINVAL);
        r = request(EXCHANGE_OP_CA, "n", EXCHANGE_ROLE_NONE, EXCHANGE_RESULT_NONE);
        assert_int_equal(exchange_request_check(&r), 0);
        r.version = 2;
        assert_int_equal(exchange_request_check(&r), -EINVAL);
        r = request(EXCHANGE_OP_CA, "bad node", EXCHANGE_ROLE_NONE, EXCHANGE_RESULT_NONE);
        assert_int_equal(exchange_request_check(&r), -EINVAL);
        r = request(7, "n", EXCHANGE_ROLE_NONE, EXCHANGE_RESULT_NONE);
        assert_int_equal(exchange_request_check(&r), -EINVAL);
}

static void exchange_transcript__join__reference_bytes(void **state)
{
        ExchangeRequest r = request(EXCHANGE_OP_JOIN, "worker-a1b2c3", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_NONE);
        uint8_t t[EXCHANGE_TRANSCRIPT_MAX];
        char h[2 * EXCHANGE_TRANSCRIPT_MAX + 1];
        size_t n;

        assert_int_equal(exchange_transcript(&r, t, &n), 0);
        hex(t, n, h);
        assert_string_equal(h, TRANSCRIPT_JOIN);
}

static void exchange_transcript__longest_fields__fit(void **state)
{
        ExchangeRequest r = request(EXCHANGE_OP_JOINED, "x", EXCHANGE_ROLE_CONTROL_PLANE, EXCHANGE_RESULT_FAILED);
        uint8_t t[EXCHANGE_TRANSCRIPT_MAX];
        size_t n;

        memset(r.node, 'n', EXCHANGE_NODE_MAX);
        r.node[EXCHANGE_NODE_MAX] = 0;
        assert_int_equal(exchange_transcript(&r, t, &n), 0);
        assert_true(n <= EXCHANGE_TRANSCRIPT_MAX);
}

static void exchange_mac_key__reference_secret__reference_key(void **state)
{
        uint8_t k[EXCHANGE_KEY_SIZE];
        char h[2 * EXCHANGE_KEY_SIZE + 1];

        assert_int_equal(exchange_mac_key(SECRET, k), 0);
        hex(k, sizeof k, h);
        assert_string_equal(h, MAC_KEY);
}

static void exchange_request_sign__three_operations__reference_macs(void **state)
{
        static const struct {
                ExchangeRequest r;
                const char *mac;
        } cases[] = {
                {{.op = EXCHANGE_OP_JOIN, .node = "worker-a1b2c3", .role = EXCHANGE_ROLE_WORKER}, MAC_JOIN},
                {{.op = EXCHANGE_OP_JOINED,
                  .node = "master-0a0b0c",
                  .role = EXCHANGE_ROLE_CONTROL_PLANE,
                  .result = EXCHANGE_RESULT_OK},
                 MAC_JOINED},
                {{.op = EXCHANGE_OP_VOTE, .node = "master-0a0b0c"}, MAC_VOTE},
        };
        uint8_t k[EXCHANGE_KEY_SIZE];
        char h[2 * EXCHANGE_MAC_SIZE + 1];

        assert_int_equal(exchange_mac_key(SECRET, k), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ExchangeRequest r = request(cases[i].r.op, cases[i].r.node, cases[i].r.role, cases[i].r.result);
                assert_int_equal(exchange_request_sign(k, &r), 0);
                hex(r.mac, sizeof r.mac, h);
                assert_string_equal(h, cases[i].mac);
                assert_int_equal(exchange_request_verify(k, &r), 0);
        }
}

static void exchange_request_verify__any_field_changed__ebadmsg(void **state)
{
        ExchangeRequest good = request(EXCHANGE_OP_JOIN, "worker-a1b2c3", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_NONE);
        uint8_t k[EXCHANGE_KEY_SIZE], other[EXCHANGE_KEY_SIZE];
        ExchangeRequest r;

        assert_int_equal(exchange_mac_key(SECRET, k), 0);
        assert_int_equal(exchange_request_sign(k, &good), 0);

        r = good;
        r.role = EXCHANGE_ROLE_CONTROL_PLANE;
        assert_int_equal(exchange_request_verify(k, &r), -EBADMSG);
        r = good;
        strcpy(r.node, "worker-a1b2c4");
        assert_int_equal(exchange_request_verify(k, &r), -EBADMSG);
        r = good;
        r.server_nonce[31] ^= 1;
        assert_int_equal(exchange_request_verify(k, &r), -EBADMSG);
        r = good;
        r.client_nonce[0] ^= 0x80;
        assert_int_equal(exchange_request_verify(k, &r), -EBADMSG);
        r = good;
        r.mac[17] ^= 4;
        assert_int_equal(exchange_request_verify(k, &r), -EBADMSG);
        /* The same MAC presented for another operation. */
        r = good;
        r.op = EXCHANGE_OP_VOTE;
        r.role = EXCHANGE_ROLE_NONE;
        assert_int_equal(exchange_request_verify(k, &r), -EBADMSG);

        assert_int_equal(exchange_mac_key("another secret of the right length 1234", other), 0);
        assert_int_equal(exchange_request_verify(other, &good), -EBADMSG);
}

static void exchange_answer_key__reference_nonces__reference_key(void **state)
{
        ExchangeRequest r = request(EXCHANGE_OP_JOIN, "n", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_NONE);
        uint8_t k[EXCHANGE_KEY_SIZE], k2[EXCHANGE_KEY_SIZE];
        char h[2 * EXCHANGE_KEY_SIZE + 1];

        assert_int_equal(exchange_answer_key(SECRET, r.server_nonce, r.client_nonce, k), 0);
        hex(k, sizeof k, h);
        assert_string_equal(h, ANSWER_KEY);
        /* Swapping the nonces gives another key. */
        assert_int_equal(exchange_answer_key(SECRET, r.client_nonce, r.server_nonce, k2), 0);
        assert_memory_not_equal(k, k2, sizeof k);
}

static void exchange_seal__reference_answer__reference_box(void **state)
{
        ExchangeRequest r = request(EXCHANGE_OP_JOIN, "worker-a1b2c3", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_NONE);
        uint8_t k[EXCHANGE_KEY_SIZE], iv[EXCHANGE_IV_SIZE];
        char *box = NULL, *plain = NULL;
        size_t n;

        memset(iv, 0x42, sizeof iv);
        assert_int_equal(exchange_answer_key(SECRET, r.server_nonce, r.client_nonce, k), 0);
        assert_int_equal(exchange_seal(k, iv, &r, SEALED_PLAIN, strlen(SEALED_PLAIN), &box), 0);
        assert_string_equal(box, SEALED);

        assert_int_equal(exchange_open(k, &r, box, strlen(box), &plain, &n), 0);
        assert_int_equal(n, strlen(SEALED_PLAIN));
        assert_string_equal(plain, SEALED_PLAIN);
        free(plain);
        free(box);
}

static void exchange_open__tampered_or_misbound__ebadmsg(void **state)
{
        ExchangeRequest r = request(EXCHANGE_OP_JOIN, "worker-a1b2c3", EXCHANGE_ROLE_WORKER, EXCHANGE_RESULT_NONE);
        ExchangeRequest other = r;
        uint8_t k[EXCHANGE_KEY_SIZE], wrong[EXCHANGE_KEY_SIZE];
        char box[] = SEALED, *plain = NULL;
        size_t n;

        assert_int_equal(exchange_answer_key(SECRET, r.server_nonce, r.client_nonce, k), 0);

        /* Every hex digit changed in turn: IV, ciphertext, tag. */
        for (size_t i = 0; i < strlen(box); i++) {
                char saved = box[i];
                box[i] = saved == '0' ? '1' : '0';
                assert_int_equal(exchange_open(k, &r, box, strlen(box), &plain, &n), -EBADMSG);
                box[i] = saved;
        }
        /* The answer to another request (another role) does not open. */
        other.role = EXCHANGE_ROLE_CONTROL_PLANE;
        assert_int_equal(exchange_open(k, &other, box, strlen(box), &plain, &n), -EBADMSG);
        /* A server that does not know the secret. */
        assert_int_equal(
                exchange_answer_key("not the cluster secret, but as long 123", r.server_nonce, r.client_nonce, wrong),
                0);
        assert_int_equal(exchange_open(wrong, &r, box, strlen(box), &plain, &n), -EBADMSG);
        /* Truncated, odd, not hex, too short for a tag. */
        assert_int_equal(exchange_open(k, &r, box, strlen(box) - 2, &plain, &n), -EBADMSG);
        assert_int_equal(exchange_open(k, &r, box, strlen(box) - 1, &plain, &n), -EBADMSG);
        box[3] = 'x';
        assert_int_equal(exchange_open(k, &r, box, strlen(box), &plain, &n), -EBADMSG);
        assert_int_equal(exchange_open(k, &r, "00", 2, &plain, &n), -EBADMSG);
        assert_int_equal(exchange_open(k, &r, "", 0, &plain, &n), -EBADMSG);
        assert_null(plain);
}

static void exchange_seal__too_large__e2big(void **state)
{
        ExchangeRequest r = request(EXCHANGE_OP_CA, "n", EXCHANGE_ROLE_NONE, EXCHANGE_RESULT_NONE);
        uint8_t k[EXCHANGE_KEY_SIZE] = {}, iv[EXCHANGE_IV_SIZE] = {};
        char *big = calloc(1, EXCHANGE_PLAIN_MAX + 2), *box = NULL;

        assert_non_null(big);
        memset(big, 'a', EXCHANGE_PLAIN_MAX + 1);
        assert_int_equal(exchange_seal(k, iv, &r, big, EXCHANGE_PLAIN_MAX + 1, &box), -E2BIG);
        assert_int_equal(exchange_seal(k, iv, &r, big, EXCHANGE_PLAIN_MAX, &box), 0);
        free(box);
        free(big);
}

static void exchange_hex_decode__cases__strict(void **state)
{
        uint8_t b[2];

        assert_int_equal(exchange_hex_decode("0aFf", 4, b, 2), 0);
        assert_int_equal(b[0], 0x0a);
        assert_int_equal(b[1], 0xff);
        assert_int_equal(exchange_hex_decode("0aF", 3, b, 2), -EINVAL);
        assert_int_equal(exchange_hex_decode("0aFf0", 5, b, 2), -EINVAL);
        assert_int_equal(exchange_hex_decode("0g00", 4, b, 2), -EINVAL);
        assert_int_equal(exchange_hex_decode(" 000", 4, b, 2), -EINVAL);
        assert_int_equal(exchange_hex_decode("-100", 4, b, 2), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(crypto_aead_seal__rfc8439_vector__expected),
                cmocka_unit_test(crypto_aead_open__any_bit_flipped__ebadmsg_and_output_wiped),
                cmocka_unit_test(crypto_random_bytes__two_draws__differ),
                cmocka_unit_test(exchange_names__round_trip__every_value),
                cmocka_unit_test(exchange_node_valid__host_names__accepted_others_refused),
                cmocka_unit_test(exchange_request_check__role_and_result__per_operation),
                cmocka_unit_test(exchange_transcript__join__reference_bytes),
                cmocka_unit_test(exchange_transcript__longest_fields__fit),
                cmocka_unit_test(exchange_mac_key__reference_secret__reference_key),
                cmocka_unit_test(exchange_request_sign__three_operations__reference_macs),
                cmocka_unit_test(exchange_request_verify__any_field_changed__ebadmsg),
                cmocka_unit_test(exchange_answer_key__reference_nonces__reference_key),
                cmocka_unit_test(exchange_seal__reference_answer__reference_box),
                cmocka_unit_test(exchange_open__tampered_or_misbound__ebadmsg),
                cmocka_unit_test(exchange_seal__too_large__e2big),
                cmocka_unit_test(exchange_hex_decode__cases__strict),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
