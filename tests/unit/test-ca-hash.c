/* SPDX-License-Identifier: MIT */
/* The CA certificate hash a joiner pins, compared with what kubeadm's documentation computes with the openssl
 * command line (x509 -pubkey | pkey -pubin -outform der | sha256sum), for RSA and EC certificates. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "fileio.h"

static char *data(const char *name, size_t *size)
{
        char path[1024], *s = NULL;
        snprintf(path, sizeof path, "%s/%s", PIAGENT_TEST_DATA_DIR, name);
        assert_int_equal(read_file_full(path, 1 << 20, &s, size), 0);
        return s;
}

static void check(const char *cert, const char *expected_file)
{
        size_t size;
        char *pem = data(cert, &size), *want = data(expected_file, NULL), hash[CRYPTO_CA_HASH_SIZE], expect[128];

        want[strcspn(want, "\n")] = 0;
        snprintf(expect, sizeof expect, "sha256:%s", want);
        assert_int_equal(crypto_ca_cert_hash(pem, size, hash), 0);
        assert_string_equal(hash, expect);
        free(pem);
        free(want);
}

static void crypto_ca_cert_hash__rsa_ca__matches_openssl_cli(void **state)
{
        check("ca.crt", "ca.crt.sha256");
}

static void crypto_ca_cert_hash__ec_ca__matches_openssl_cli(void **state)
{
        check("ca-ec.crt", "ca-ec.crt.sha256");
}

static void crypto_ca_cert_hash__not_a_certificate__einval(void **state)
{
        char hash[CRYPTO_CA_HASH_SIZE];
        const char *junk = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";

        assert_int_equal(crypto_ca_cert_hash(junk, strlen(junk), hash), -EINVAL);
        assert_int_equal(crypto_ca_cert_hash("", 0, hash), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(crypto_ca_cert_hash__rsa_ca__matches_openssl_cli),
                cmocka_unit_test(crypto_ca_cert_hash__ec_ca__matches_openssl_cli),
                cmocka_unit_test(crypto_ca_cert_hash__not_a_certificate__einval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
