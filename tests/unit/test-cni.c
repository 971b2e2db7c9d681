/* SPDX-License-Identifier: MIT */
/* The pod network's manifest: where it is looked for, the pod subnet filled in, what a person is told when
 * there is none; and the shipped flannel manifest renders. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cni.h"
#include "fileio.h"
#include "macro.h"

static Ipv4Cidr cidr(const char *s)
{
        Ipv4Cidr c;

        assert_int_equal(ipv4_cidr_parse(s, &c), 0);
        return c;
}

static void cni_manifest_path__each_source__in_its_directory(void **state)
{
        _cleanup_free_ char *boot = NULL, *etc = NULL, *shipped = NULL, *calico = NULL;

        assert_int_equal(cni_manifest_path(CNI_SOURCE_BOOT, "/boot/firmware", CNI_FLANNEL, &boot), 0);
        assert_string_equal(boot, "/boot/firmware/flannel.yaml");
        assert_int_equal(cni_manifest_path(CNI_SOURCE_ETC, "/boot/firmware", CNI_FLANNEL, &etc), 0);
        assert_string_equal(etc, "/etc/piagent/cni/flannel.yaml");
        assert_int_equal(cni_manifest_path(CNI_SOURCE_SHIPPED, NULL, CNI_FLANNEL, &shipped), 0);
        assert_string_equal(shipped, "/usr/share/piagent/cni/flannel.yaml");
        assert_int_equal(cni_manifest_path(CNI_SOURCE_ETC, NULL, CNI_CALICO, &calico), 0);
        assert_string_equal(calico, "/etc/piagent/cni/calico.yaml");
}

static void cni_manifest_path__none_or_no_boot_dir__einval(void **state)
{
        char *p = (char *)"untouched";

        assert_int_equal(cni_manifest_path(CNI_SOURCE_SHIPPED, "/boot", CNI_NONE, &p), -EINVAL);
        assert_int_equal(cni_manifest_path(CNI_SOURCE_BOOT, NULL, CNI_FLANNEL, &p), -EINVAL);
        assert_int_equal(cni_manifest_path(CNI_SOURCE_BOOT, "", CNI_FLANNEL, &p), -EINVAL);
        assert_int_equal(cni_manifest_path(_CNI_SOURCE_MAX, "/boot", CNI_FLANNEL, &p), -EINVAL);
        assert_int_equal(cni_manifest_path(CNI_SOURCE_ETC, "/boot", _CNI_INVALID, &p), -EINVAL);
        assert_string_equal(p, "untouched");
}

static void cni_is_shipped__flannel_only(void **state)
{
        assert_true(cni_is_shipped(CNI_FLANNEL));
        assert_false(cni_is_shipped(CNI_CALICO));
        assert_false(cni_is_shipped(CNI_NONE));
}

static void cni_manifest_render__placeholders__all_replaced(void **state)
{
        _cleanup_free_ char *out = NULL;
        Ipv4Cidr c = cidr("10.32.0.0/12");

        assert_int_equal(cni_manifest_render("a: \"@POD_SUBNET@\"\nb: @POD_SUBNET@@POD_SUBNET@\n", &c, &out), 0);
        assert_string_equal(out, "a: \"10.32.0.0/12\"\nb: 10.32.0.0/1210.32.0.0/12\n");
}

static void cni_manifest_render__placeholder_at_edges__replaced(void **state)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        Ipv4Cidr c = cidr("192.168.128.0/17");

        assert_int_equal(cni_manifest_render("@POD_SUBNET@", &c, &a), 0);
        assert_string_equal(a, "192.168.128.0/17");
        assert_int_equal(cni_manifest_render("x@POD_SUBNET@", &c, &b), 0);
        assert_string_equal(b, "x192.168.128.0/17");
}

static void cni_manifest_render__no_placeholder__ebadmsg(void **state)
{
        char *out = (char *)"untouched";
        Ipv4Cidr c = cidr("10.244.0.0/16");

        assert_int_equal(cni_manifest_render("\"Network\": \"10.244.0.0/16\"\n", &c, &out), -EBADMSG);
        assert_int_equal(cni_manifest_render("", &c, &out), -EBADMSG);
        /* Near misses are not the placeholder. */
        assert_int_equal(cni_manifest_render("@POD_SUBNET @pod_subnet@ POD_SUBNET@", &c, &out), -EBADMSG);
        assert_string_equal(out, "untouched");
}

static void cni_missing_message__calico__names_files_and_fix(void **state)
{
        _cleanup_free_ char *m = NULL;

        assert_int_equal(cni_missing_message("/boot/firmware", CNI_CALICO, &m), 0);
        assert_non_null(strstr(m, "cni=calico"));
        assert_non_null(strstr(m, "/boot/firmware/calico.yaml"));
        assert_non_null(strstr(m, "/etc/piagent/cni/calico.yaml"));
        assert_non_null(strstr(m, "flannel only"));
        assert_non_null(strstr(m, "copy"));
        assert_null(strstr(m, "/usr/share"));
}

static void cni_missing_message__flannel__says_reinstall(void **state)
{
        _cleanup_free_ char *m = NULL;

        assert_int_equal(cni_missing_message("/boot", CNI_FLANNEL, &m), 0);
        assert_non_null(strstr(m, "/usr/share/piagent/cni/flannel.yaml is missing"));
        assert_non_null(strstr(m, "reinstall the piagent package"));
        assert_non_null(strstr(m, "/boot/flannel.yaml"));
        assert_non_null(strstr(m, "/etc/piagent/cni/flannel.yaml"));
}

static void cni_missing_message__none__einval(void **state)
{
        char *m = NULL;

        assert_int_equal(cni_missing_message("/boot", CNI_NONE, &m), -EINVAL);
        assert_null(m);
}

/* The manifest the package installs: one placeholder, in net-conf.json, replaced by the pod subnet. */
static void cni_manifest_render__shipped_flannel__network_is_pod_subnet(void **state)
{
        _cleanup_free_ char *text = NULL, *out = NULL;
        Ipv4Cidr c = cidr("10.200.0.0/16");
        const char *p;

        assert_int_equal(read_file_full(PIAGENT_SOURCE_DIR "/cni/flannel.yaml", CNI_MANIFEST_MAX, &text, NULL), 0);
        p = strstr(text, CNI_POD_SUBNET_PLACEHOLDER);
        assert_non_null(p);
        assert_null(strstr(p + 1, CNI_POD_SUBNET_PLACEHOLDER));
        assert_int_equal(cni_manifest_render(text, &c, &out), 0);
        assert_null(strstr(out, "@POD_SUBNET"));
        assert_non_null(strstr(out, "\"Network\": \"10.200.0.0/16\","));
        assert_int_equal(strlen(out), strlen(text) - strlen(CNI_POD_SUBNET_PLACEHOLDER) + strlen("10.200.0.0/16"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(cni_manifest_path__each_source__in_its_directory),
                cmocka_unit_test(cni_manifest_path__none_or_no_boot_dir__einval),
                cmocka_unit_test(cni_is_shipped__flannel_only),
                cmocka_unit_test(cni_manifest_render__placeholders__all_replaced),
                cmocka_unit_test(cni_manifest_render__placeholder_at_edges__replaced),
                cmocka_unit_test(cni_manifest_render__no_placeholder__ebadmsg),
                cmocka_unit_test(cni_missing_message__calico__names_files_and_fix),
                cmocka_unit_test(cni_missing_message__flannel__says_reinstall),
                cmocka_unit_test(cni_missing_message__none__einval),
                cmocka_unit_test(cni_manifest_render__shipped_flannel__network_is_pod_subnet),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
