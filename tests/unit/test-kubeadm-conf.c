/* SPDX-License-Identifier: MIT */
/* kubeadm configuration documents: golden files for both API versions, every document valid JSON with the
 * expected kinds, and parameters kubeadm would refuse rejected before kubeadm runs. */

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "json.h"
#include "kubeadm-conf.h"
#include "secret.h"

#define SECRET   "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"
#define TOKEN    "abcdef.0123456789abcdef"
#define CERT_KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CA_HASH  "sha256:" CERT_KEY

static Config *config(void)
{
        DiagList d = {};
        Config *c = NULL;
        const char *role = "role=master\n", *cluster = "cluster=home\nsecret=" SECRET "\n";
        assert_int_equal(config_parse(role, strlen(role), cluster, strlen(cluster), &d, &c), 0);
        return c;
}

static void assert_golden(const char *text, const char *name)
{
        char path[1024], *want = NULL;

        snprintf(path, sizeof path, "%s/%s", PIAGENT_TEST_DATA_DIR, name);
        if (getenv("PIAGENT_UPDATE_GOLDEN")) {
                assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
                return;
        }
        if (read_file_full(path, 1 << 20, &want, NULL) < 0)
                fail_msg("golden file %s missing (run with PIAGENT_UPDATE_GOLDEN=1)", path);
        assert_string_equal(text, want);
        free(want);
}

/* Splits at "---" lines, parses each document, returns the kinds joined by ",". */
static void assert_kinds(const char *text, const char *want_api, const char *want_kinds)
{
        char kinds[256] = "";
        const char *p = text;

        for (;;) {
                const char *sep = strstr(p, "\n---\n");
                size_t n = sep ? (size_t)(sep - p + 1) : strlen(p);
                cJSON *doc = NULL;
                const char *kind, *api;

                assert_int_equal(json_parse_untrusted(p, n, 1 << 20, 32, &doc), 0);
                assert_int_equal(json_get_string(doc, "kind", 64, &kind), 0);
                assert_int_equal(json_get_string(doc, "apiVersion", 64, &api), 0);
                if (strncmp(api, "kubeadm", 7) == 0)
                        assert_string_equal(api, want_api);
                snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", kinds[0] ? "," : "", kind);
                cJSON_Delete(doc);
                if (!sep)
                        break;
                p = sep + 5;
        }
        assert_string_equal(kinds, want_kinds);
}

static KubeadmInitParams init_params(const Config *c, KubeadmApi api)
{
        KubeadmInitParams p = {.api = api,
                               .config = c,
                               .node_name = "master-a1b2c3",
                               .kubernetes_version = "v1.31.2",
                               .token = TOKEN,
                               .certificate_key = CERT_KEY};
        inet_pton(AF_INET, "192.168.3.251", &p.advertise_address);
        return p;
}

static KubeadmJoinParams join_params(const Config *c, KubeadmApi api, bool control_plane)
{
        KubeadmJoinParams p = {.api = api,
                               .config = c,
                               .node_name = control_plane ? "master-d4e5f6" : "worker-0a0b0c",
                               .control_plane = control_plane,
                               .token = TOKEN,
                               .ca_hash = CA_HASH,
                               .certificate_key = control_plane ? CERT_KEY : NULL};
        inet_pton(AF_INET, "192.168.3.252", &p.advertise_address);
        return p;
}

static void kubeadm_init_conf_render__v1beta4__golden_and_kinds(void **state)
{
        Config *c = config();
        KubeadmInitParams p = init_params(c, KUBEADM_V1BETA4);
        char *text = NULL;

        assert_int_equal(kubeadm_init_conf_render(&p, &text), 0);
        assert_golden(text, "kubeadm-init-v1beta4.json");
        assert_kinds(text, "kubeadm.k8s.io/v1beta4", "InitConfiguration,ClusterConfiguration,KubeletConfiguration");
        assert_non_null(strstr(text, "\"controlPlaneEndpoint\":\"192.168.3.240:9000\""));
        free(text);
        config_unref(c);
}

static void kubeadm_init_conf_render__v1beta3__extra_args_as_map(void **state)
{
        Config *c = config();
        KubeadmInitParams p = init_params(c, KUBEADM_V1BETA3);
        char *text = NULL;

        assert_int_equal(kubeadm_init_conf_render(&p, &text), 0);
        assert_golden(text, "kubeadm-init-v1beta3.json");
        assert_kinds(text, "kubeadm.k8s.io/v1beta3", "InitConfiguration,ClusterConfiguration,KubeletConfiguration");
        assert_non_null(strstr(text, "\"node-ip\":\"192.168.3.251\""));
        free(text);
        config_unref(c);
}

/* kubeadm's control-plane wait is 10 min, not its default 4 (an SD-card Pi): where each API version keeps it. */
static void kubeadm_conf_render__control_plane_wait__per_api(void **state)
{
        Config *c = config();
        char *text = NULL;
        KubeadmInitParams ip = init_params(c, KUBEADM_V1BETA3);

        assert_int_equal(kubeadm_init_conf_render(&ip, &text), 0);
        assert_non_null(
                strstr(text, "\"apiServer\":{\"certSANs\":[\"192.168.3.240\"],\"timeoutForControlPlane\":\"10m0s\"}"));
        assert_null(strstr(text, "\"timeouts\""));
        free(text);
        ip = init_params(c, KUBEADM_V1BETA4);
        assert_int_equal(kubeadm_init_conf_render(&ip, &text), 0);
        assert_non_null(strstr(text, "\"timeouts\":{\"controlPlaneComponentHealthCheck\":\"10m0s\"}"));
        assert_null(strstr(text, "timeoutForControlPlane"));
        free(text);
        KubeadmJoinParams jp = join_params(c, KUBEADM_V1BETA4, true);
        assert_int_equal(kubeadm_join_conf_render(&jp, &text), 0);
        assert_non_null(strstr(text, "\"timeouts\":{\"controlPlaneComponentHealthCheck\":\"10m0s\"}"));
        free(text);
        jp = join_params(c, KUBEADM_V1BETA4, false);
        assert_int_equal(kubeadm_join_conf_render(&jp, &text), 0);
        assert_null(strstr(text, "\"timeouts\""));
        free(text);
        config_unref(c);
}

static void kubeadm_version_skew_check__kubeadm_range(void **state)
{
        char msg[320] = "";

        assert_int_equal(kubeadm_version_skew_check("v1.31.2", "v1.31.0", msg, sizeof msg), 0);
        assert_int_equal(kubeadm_version_skew_check("v1.31.2", "v1.30.14", msg, sizeof msg), 0);
        assert_int_equal(kubeadm_version_skew_check("v1.33.5", "v1.31.0", msg, sizeof msg), -ERANGE);
        assert_non_null(strstr(msg, "kubernetes_version=v1.31.0, but the installed kubeadm v1.33.5 sets up 1.32 or "
                                    "1.33 only"));
        assert_non_null(strstr(msg, "kubernetes_version=auto"));
        assert_int_equal(kubeadm_version_skew_check("v1.30.14", "v1.31.0", msg, sizeof msg), -ERANGE);
        assert_int_equal(kubeadm_version_skew_check("junk", "v1.31.0", msg, sizeof msg), -EINVAL);
}

static void kubeadm_join_conf_render__control_plane__certificate_key_and_endpoint(void **state)
{
        Config *c = config();
        KubeadmJoinParams p = join_params(c, KUBEADM_V1BETA4, true);
        char *text = NULL;

        assert_int_equal(kubeadm_join_conf_render(&p, &text), 0);
        assert_golden(text, "kubeadm-join-control-plane-v1beta4.json");
        assert_kinds(text, "kubeadm.k8s.io/v1beta4", "JoinConfiguration,KubeletConfiguration");
        free(text);
        config_unref(c);
}

static void kubeadm_join_conf_render__worker__no_control_plane_section(void **state)
{
        Config *c = config();
        KubeadmJoinParams p = join_params(c, KUBEADM_V1BETA4, false);
        char *text = NULL;

        assert_int_equal(kubeadm_join_conf_render(&p, &text), 0);
        assert_golden(text, "kubeadm-join-worker-v1beta4.json");
        assert_null(strstr(text, "controlPlane"));
        assert_null(strstr(text, "certificateKey"));
        free(text);
        config_unref(c);
}

static void kubeadm_init_conf_render__bad_token__einval(void **state)
{
        Config *c = config();
        KubeadmInitParams p = init_params(c, KUBEADM_V1BETA4);
        char *text = NULL;

        p.token = "ABCDEF.0123456789abcdef";
        assert_int_equal(kubeadm_init_conf_render(&p, &text), -EINVAL);
        p.token = "abcdef0123456789abcdef";
        assert_int_equal(kubeadm_init_conf_render(&p, &text), -EINVAL);
        p.token = TOKEN;
        p.certificate_key = "xyz";
        assert_int_equal(kubeadm_init_conf_render(&p, &text), -EINVAL);
        p.certificate_key = CERT_KEY;
        p.node_name = "Master_1";
        assert_int_equal(kubeadm_init_conf_render(&p, &text), -EINVAL);
        assert_null(text);
        config_unref(c);
}

static void kubeadm_join_conf_render__bad_hash_or_missing_key__einval(void **state)
{
        Config *c = config();
        KubeadmJoinParams p = join_params(c, KUBEADM_V1BETA4, true);
        char *text = NULL;

        p.ca_hash = "sha1:0123";
        assert_int_equal(kubeadm_join_conf_render(&p, &text), -EINVAL);
        p.ca_hash = CA_HASH;
        p.certificate_key = NULL;
        assert_int_equal(kubeadm_join_conf_render(&p, &text), -EINVAL);
        assert_null(text);
        config_unref(c);
}

static void kubeadm_api_from_version__versions__api_chosen(void **state)
{
        KubeadmApi api;

        assert_int_equal(kubeadm_api_from_version("v1.31.0", &api), 0);
        assert_int_equal(api, KUBEADM_V1BETA4);
        assert_int_equal(kubeadm_api_from_version("v1.32.3", &api), 0);
        assert_int_equal(api, KUBEADM_V1BETA4);
        assert_int_equal(kubeadm_api_from_version("v1.30.9", &api), 0);
        assert_int_equal(api, KUBEADM_V1BETA3);
        assert_int_equal(kubeadm_api_from_version("1.31.0", &api), -EINVAL);
        assert_int_equal(kubeadm_api_from_version("v2.0.0", &api), -EINVAL);
        assert_int_equal(kubeadm_api_from_version("", &api), -EINVAL);
}

static void bootstrap_token_generate__many__valid_format_and_distinct(void **state)
{
        char a[BOOTSTRAP_TOKEN_SIZE], b[BOOTSTRAP_TOKEN_SIZE], key[CERTIFICATE_KEY_SIZE];

        for (unsigned i = 0; i < 200; i++) {
                assert_int_equal(bootstrap_token_generate(a), 0);
                assert_true(kubeadm_token_is_valid(a));
        }
        assert_int_equal(bootstrap_token_generate(b), 0);
        assert_string_not_equal(a, b);
        assert_int_equal(certificate_key_generate(key), 0);
        assert_true(kubeadm_certificate_key_is_valid(key));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(kubeadm_init_conf_render__v1beta4__golden_and_kinds),
                cmocka_unit_test(kubeadm_init_conf_render__v1beta3__extra_args_as_map),
                cmocka_unit_test(kubeadm_conf_render__control_plane_wait__per_api),
                cmocka_unit_test(kubeadm_version_skew_check__kubeadm_range),
                cmocka_unit_test(kubeadm_join_conf_render__control_plane__certificate_key_and_endpoint),
                cmocka_unit_test(kubeadm_join_conf_render__worker__no_control_plane_section),
                cmocka_unit_test(kubeadm_init_conf_render__bad_token__einval),
                cmocka_unit_test(kubeadm_join_conf_render__bad_hash_or_missing_key__einval),
                cmocka_unit_test(kubeadm_api_from_version__versions__api_chosen),
                cmocka_unit_test(bootstrap_token_generate__many__valid_format_and_distinct),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
