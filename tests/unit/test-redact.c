/* SPDX-License-Identifier: MIT */
/* Secrets in kubeadm's output never reach the journal: lines as kubeadm prints them. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

#define KEY  "3f1c0a9e8b7d6c5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"
#define HASH "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect(const char *in, const char *want)
{
        char out[512];
        assert_string_equal(redact_secrets(in, out, sizeof out), want);
}

static void redact_secrets__join_command__token_and_key_masked_hash_kept(void **state)
{
        expect("  kubeadm join 192.168.3.240:9000 --token abcdef.0123456789abcdef \\",
               "  kubeadm join 192.168.3.240:9000 --token <token> \\");
        expect("\t--discovery-token-ca-cert-hash " HASH " \\", "\t--discovery-token-ca-cert-hash " HASH " \\");
        expect("\t--control-plane --certificate-key " KEY, "\t--control-plane --certificate-key <key>");
}

static void redact_secrets__upload_certs_line__key_masked(void **state)
{
        expect("[upload-certs] Using certificate key:", "[upload-certs] Using certificate key:");
        expect(KEY, "<key>");
}

static void redact_secrets__token_list_table__masked(void **state)
{
        expect("abcdef.0123456789abcdef   23h   2026-11-28T01:00:00Z   authentication,signing",
               "<token>   23h   2026-11-28T01:00:00Z   authentication,signing");
}

static void redact_secrets__ordinary_output__unchanged(void **state)
{
        expect("[init] Using Kubernetes version: v1.31.2", "[init] Using Kubernetes version: v1.31.2");
        expect("[certs] apiserver serving cert is signed for DNS names [master-a1b2c3 kubernetes] and IPs "
               "[10.96.0.1 192.168.3.251]",
               "[certs] apiserver serving cert is signed for DNS names [master-a1b2c3 kubernetes] and IPs "
               "[10.96.0.1 192.168.3.251]");
        /* Not tokens: wrong lengths, upper case, part of a longer name. */
        expect("abcde.0123456789abcdef", "abcde.0123456789abcdef");
        expect("ABCDEF.0123456789ABCDEF", "ABCDEF.0123456789ABCDEF");
        expect("x.abcdef.0123456789abcdef.y", "x.abcdef.0123456789abcdef.y");
}

static void redact_secrets__small_buffer__truncated_never_overflows(void **state)
{
        char out[8];

        assert_string_equal(redact_secrets("--token abcdef.0123456789abcdef", out, sizeof out), "--token");
        assert_string_equal(redact_secrets("abcdef.0123456789abcdef", out, sizeof out), "<token>");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(redact_secrets__join_command__token_and_key_masked_hash_kept),
                cmocka_unit_test(redact_secrets__upload_certs_line__key_masked),
                cmocka_unit_test(redact_secrets__token_list_table__masked),
                cmocka_unit_test(redact_secrets__ordinary_output__unchanged),
                cmocka_unit_test(redact_secrets__small_buffer__truncated_never_overflows),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
