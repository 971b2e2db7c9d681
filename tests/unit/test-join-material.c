/* SPDX-License-Identifier: MIT */
/* Join material on a master, with a stand-in kubeadm: fresh token, CA hash from the certificate, and for the
 * control plane a new certificate key that reaches kubeadm only through a 0600 file removed afterwards, in the
 * configuration API of the kubeadm installed, asked first also by a master that never ran init or join in this
 * process (one ready from its persisted state after a reboot or an agent restart: issue 13, point 1). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "join-material.h"
#include "kubeadm.h"

#define SECRET "cba47853ac7a856ad9c0cb5b817ce932c0a8424a9b33450c"

static char dir[64], script[128], seen[128];

typedef struct R {
        sd_event *e;
        bool done;
        int error;
        BootstrapMaterial m;
        char detail[128];
} R;

/* version: prints <seen>.version (no file: fails); upload-certs: records the config's mode and content;
 * token create: prints a token. Every run is appended to <seen>.order. */
static void write_script(const char *token_line)
{
        char text[1536];
        snprintf(text, sizeof text,
                 "#!/bin/sh\n"
                 "echo \"$1\" >> %s.order\n"
                 "case \"$*\" in\n"
                 "  'version -o short') cat %s.version || exit 1;;\n"
                 "  *upload-certs*) f=\"$6\"; stat -c %%a \"$f\" > %s.mode; cp \"$f\" %s.conf;;\n"
                 "  'token create --kubeconfig /etc/kubernetes/admin.conf --ttl 15m0s') echo run >> %s.runs; "
                 "echo '%s';;\n"
                 "  *) exit 9;;\n"
                 "esac\n",
                 seen, seen, seen, seen, seen, token_line);
        assert_int_equal(write_file_atomic(script, text, strlen(text), 0755), 0);
}

/* What `kubeadm version -o short` answers (NULL: it fails). */
static void set_version(const char *v)
{
        char path[160];
        snprintf(path, sizeof path, "%s.version", seen);
        if (!v) {
                (void)unlink(path);
                return;
        }
        assert_int_equal(write_file_atomic(path, v, strlen(v), 0644), 0);
}

static char *seen_file(const char *suffix)
{
        char path[160], *text = NULL;
        snprintf(path, sizeof path, "%s.%s", seen, suffix);
        if (read_file_full(path, 1 << 16, &text, NULL) < 0)
                return NULL;
        return text;
}

static int setup(void **state)
{
        snprintf(dir, sizeof dir, "/tmp/piagent-jm-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(script, sizeof script, "%s/kubeadm", dir);
        snprintf(seen, sizeof seen, "%s/seen", dir);
        kubeadm_release_forget(); /* each test is a fresh process as far as kubeadm's release goes */
        set_version("v1.31.2\n");
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void on_done(int error, const char *detail, const BootstrapMaterial *m, void *userdata)
{
        R *r = userdata;
        r->done = true;
        r->error = error;
        snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
        if (m)
                r->m = *m;
        sd_event_exit(r->e, 0);
}

/* A master's parameters (cluster_extra: more cluster.txt lines); the caller frees p.config. ca_path must
 * outlive p. */
static JoinMaterialParams params_with(bool control_plane, const char *ca, char ca_path[static 512],
                                      const char *cluster_extra)
{
        DiagList d = {};
        Config *c = NULL;
        char cluster[256];
        const char *role = "role=master\n";

        snprintf(cluster, sizeof cluster, "secret=" SECRET "\n%s", cluster_extra);
        assert_int_equal(config_parse(role, strlen(role), cluster, strlen(cluster), &d, &c), 0);
        snprintf(ca_path, 512, "%s/%s", PIAGENT_TEST_DATA_DIR, ca);
        return (JoinMaterialParams){.config = c,
                                    .self_id = "m-000001",
                                    .node_name = "master-000001",
                                    .ca_file = ca_path,
                                    .runtime_dir = dir,
                                    .kubeadm = script,
                                    .control_plane = control_plane};
}

static JoinMaterialParams params(bool control_plane, const char *ca, char ca_path[static 512])
{
        return params_with(control_plane, ca, ca_path, "");
}

static R create_with(bool control_plane, const char *ca, const char *cluster_extra)
{
        char ca_path[512];
        JoinMaterialParams p = params_with(control_plane, ca, ca_path, cluster_extra);
        Config *c = (Config *)p.config;
        R r = {};

        assert_int_equal(sd_event_new(&r.e), 0);
        assert_int_equal(join_material_create(r.e, NULL, &p, on_done, &r), 0);
        if (!r.done)
                assert_int_equal(sd_event_loop(r.e), 0);
        sd_event_unref(r.e);
        config_unref(c);
        assert_true(r.done);
        return r;
}

static R create(bool control_plane, const char *ca)
{
        return create_with(control_plane, ca, "");
}

static char *expected_hash(void)
{
        char path[512], *h = NULL, *out = NULL;
        snprintf(path, sizeof path, "%s/ca.crt.sha256", PIAGENT_TEST_DATA_DIR);
        assert_int_equal(read_file_full(path, 256, &h, NULL), 0);
        h[strcspn(h, "\n")] = 0;
        assert_true(asprintf(&out, "sha256:%s", h) > 0);
        free(h);
        return out;
}

static void join_material_create__worker__token_and_hash(void **state)
{
        char *hash = expected_hash();
        R r;

        write_script("abcdef.0123456789abcdef");
        r = create(false, "ca.crt");
        assert_int_equal(r.error, 0);
        assert_string_equal(r.m.token, "abcdef.0123456789abcdef");
        assert_string_equal(r.m.ca_hash, hash);
        assert_string_equal(r.m.certificate_key, "");
        assert_string_equal(r.m.server, "m-000001");
        assert_int_equal(access(seen, F_OK), -1); /* no upload-certs for a worker */
        free(hash);
}

static void join_material_create__control_plane__key_only_in_0600_file_then_removed(void **state)
{
        char path[160], *mode = NULL, *conf = NULL;
        R r;

        write_script("ghijkl.0123456789abcdef");
        r = create(true, "ca.crt");
        assert_int_equal(r.error, 0);
        assert_int_equal(strlen(r.m.certificate_key), 64);
        snprintf(path, sizeof path, "%s.mode", seen);
        assert_int_equal(read_file_full(path, 64, &mode, NULL), 0);
        assert_string_equal(mode, "600\n");
        snprintf(path, sizeof path, "%s.conf", seen);
        assert_int_equal(read_file_full(path, 1 << 16, &conf, NULL), 0);
        assert_non_null(strstr(conf, r.m.certificate_key));
        snprintf(path, sizeof path, "%s/upload-certs.json", dir);
        assert_int_equal(access(path, F_OK), -1);
        free(mode);
        free(conf);
}

static void join_material_create__kubeadm_prints_junk__ebadmsg(void **state)
{
        R r;

        write_script("error: something went wrong");
        r = create(false, "ca.crt");
        assert_int_equal(r.error, -EBADMSG);
        assert_string_equal(r.detail, "kubeadm token create printed no token");
}

static void join_material_create__no_ca__error_without_kubeadm(void **state)
{
        R r;

        write_script("abcdef.0123456789abcdef");
        r = create(false, "does-not-exist.crt");
        assert_int_equal(r.error, -ENOENT);
}

static unsigned token_runs(void)
{
        char path[160], *text = NULL;
        unsigned n = 0;
        snprintf(path, sizeof path, "%s.runs", seen);
        if (read_file_full(path, 4096, &text, NULL) < 0)
                return 0;
        for (char *p = text; (p = strchr(p, '\n')); p++)
                n++;
        free(text);
        return n;
}

/* A master ready from its persisted state has never run kubeadm in this process: the upload-certs configuration
 * must be in the API of the kubeadm installed, with its version, asked before anything is rendered. */
static void control_plane_for(const char *kubeadm, const char *cluster_extra, const char *api, const char *kv)
{
        _cleanup_free_ char *conf = NULL, *order = NULL;
        char want[96];
        R r;

        write_script("ghijkl.0123456789abcdef");
        set_version(kubeadm);
        r = create_with(true, "ca.crt", cluster_extra);
        assert_int_equal(r.error, 0);
        order = seen_file("order");
        assert_non_null(order);
        assert_string_equal(order, "version\ninit\ntoken\n"); /* version first; upload-certs is `init phase` */
        conf = seen_file("conf");
        assert_non_null(conf);
        snprintf(want, sizeof want, "\"apiVersion\":\"kubeadm.k8s.io/%s\"", api);
        assert_non_null(strstr(conf, want));
        snprintf(want, sizeof want, "\"kubernetesVersion\":\"%s\"", kv);
        assert_non_null(strstr(conf, want));
}

static void join_material_create__restarted_master_kubeadm_1_30__v1beta3(void **state)
{
        control_plane_for("v1.30.14\n", "", "v1beta3", "v1.30.14");
}

static void join_material_create__restarted_master_kubeadm_1_33__v1beta4_and_its_version(void **state)
{
        control_plane_for("v1.33.5\n", "", "v1beta4", "v1.33.5");
}

static void join_material_create__cluster_txt_version__wins_over_kubeadm(void **state)
{
        control_plane_for("v1.33.5\n", "kubernetes_version=v1.33.1\n", "v1beta4", "v1.33.1");
}

static void join_material_create__cluster_txt_version_kubeadm_cannot_set_up__erange(void **state)
{
        R r;

        write_script("ghijkl.0123456789abcdef");
        set_version("v1.33.5\n");
        r = create_with(true, "ca.crt", "kubernetes_version=v1.31.0\n");
        assert_int_equal(r.error, -ERANGE);
        assert_non_null(strstr(r.detail, "kubernetes_version=v1.31.0, but the installed kubeadm v1.33.5"));
        assert_null(seen_file("conf"));
}

static void join_material_create__kubeadm_version_fails__error_nothing_uploaded(void **state)
{
        R r;

        write_script("ghijkl.0123456789abcdef");
        set_version(NULL);
        r = create(true, "ca.crt");
        assert_int_equal(r.error, -EIO);
        assert_non_null(strstr(r.detail, "kubeadm version"));
        assert_null(seen_file("conf"));
        assert_int_equal(token_runs(), 0);
}

static void join_material_create__kubeadm_too_old__eproto(void **state)
{
        R r;

        write_script("ghijkl.0123456789abcdef");
        set_version("v1.21.14\n");
        r = create(true, "ca.crt");
        assert_int_equal(r.error, -EPROTO);
        assert_non_null(strstr(r.detail, "too old"));
        assert_null(seen_file("conf"));
}

/* Asked once per process; a replaced kubeadm binary (a package upgrade) is asked again. */
static void join_material_create__kubeadm_release__asked_once_until_binary_changes(void **state)
{
        _cleanup_free_ char *order = NULL, *conf = NULL;
        R r;

        write_script("ghijkl.0123456789abcdef");
        set_version("v1.30.14\n");
        r = create(true, "ca.crt");
        assert_int_equal(r.error, 0);
        r = create(true, "ca.crt");
        assert_int_equal(r.error, 0);
        order = seen_file("order");
        assert_string_equal(order, "version\ninit\ntoken\ninit\ntoken\n");

        usleep(10 * 1000); /* a new mtime even on coarse clocks */
        write_script("ghijkl.0123456789abcdef");
        set_version("v1.31.2\n");
        r = create(true, "ca.crt");
        assert_int_equal(r.error, 0);
        free(order);
        order = seen_file("order");
        assert_string_equal(order, "version\ninit\ntoken\ninit\ntoken\nversion\ninit\ntoken\n");
        conf = seen_file("conf");
        assert_non_null(strstr(conf, "kubeadm.k8s.io/v1beta4"));
}

typedef struct Shared {
        sd_event *e;
        unsigned done, errors, pending;
        BootstrapMaterial m[4];
} Shared;

static void on_shared(int error, const char *detail, const BootstrapMaterial *m, void *userdata)
{
        Shared *s = userdata;
        if (error < 0 || !m)
                s->errors++;
        else
                s->m[s->done % 4] = *m;
        s->done++;
        if (--s->pending == 0)
                sd_event_exit(s->e, 0);
}

/* Three workers asking at once share one kubeadm run; the next within the reuse window gets the same material
 * without a run; after forget (a failed join was reported) a new token is made. */
static void join_material_create__cache__concurrent_requests_share_one_run(void **state)
{
        _cleanup_(join_material_cache_freep) JoinMaterialCache *cache = NULL;
        char ca_path[512];
        JoinMaterialParams p = params(false, "ca.crt", ca_path);
        Config *c = (Config *)p.config;
        Shared s = {};

        write_script("abcdef.0123456789abcdef");
        assert_int_equal(join_material_cache_new(&cache), 0);
        assert_int_equal(sd_event_new(&s.e), 0); /* one loop per step: a loop that exited cannot run again */
        s.pending = 3;
        for (int i = 0; i < 3; i++)
                assert_int_equal(join_material_create(s.e, cache, &p, on_shared, &s), 0);
        assert_int_equal(s.done, 0); /* all three wait for the one run */
        assert_int_equal(sd_event_loop(s.e), 0);
        assert_int_equal(s.done, 3);
        assert_int_equal(s.errors, 0);
        assert_int_equal(token_runs(), 1);
        for (int i = 0; i < 3; i++)
                assert_string_equal(s.m[i].token, "abcdef.0123456789abcdef");

        /* Within the window: answered at once, no run. */
        s.pending = 1;
        assert_int_equal(join_material_create(s.e, cache, &p, on_shared, &s), 0);
        assert_int_equal(s.done, 4);
        assert_int_equal(token_runs(), 1);

        /* Forgotten: a new run. */
        join_material_cache_forget(cache);
        s.e = sd_event_unref(s.e);
        assert_int_equal(sd_event_new(&s.e), 0);
        write_script("zzzzzz.0123456789abcdef");
        s.pending = 1;
        assert_int_equal(join_material_create(s.e, cache, &p, on_shared, &s), 0);
        assert_int_equal(sd_event_loop(s.e), 0);
        assert_int_equal(s.done, 5);
        assert_int_equal(token_runs(), 2);
        assert_string_equal(s.m[0].token, "zzzzzz.0123456789abcdef");

        /* A control-plane request is another kind: it does not get the worker's material. */
        p.control_plane = true;
        s.e = sd_event_unref(s.e);
        assert_int_equal(sd_event_new(&s.e), 0);
        s.pending = 1;
        assert_int_equal(join_material_create(s.e, cache, &p, on_shared, &s), 0);
        assert_int_equal(sd_event_loop(s.e), 0);
        assert_int_equal(token_runs(), 3);
        assert_int_equal(strlen(s.m[1].certificate_key), 64);
        sd_event_unref(s.e);
        config_unref(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(join_material_create__worker__token_and_hash, setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__control_plane__key_only_in_0600_file_then_removed,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__kubeadm_prints_junk__ebadmsg, setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__no_ca__error_without_kubeadm, setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__cache__concurrent_requests_share_one_run, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(join_material_create__restarted_master_kubeadm_1_30__v1beta3, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        join_material_create__restarted_master_kubeadm_1_33__v1beta4_and_its_version, setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__cluster_txt_version__wins_over_kubeadm, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(join_material_create__cluster_txt_version_kubeadm_cannot_set_up__erange,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__kubeadm_version_fails__error_nothing_uploaded,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__kubeadm_too_old__eproto, setup, teardown),
                cmocka_unit_test_setup_teardown(join_material_create__kubeadm_release__asked_once_until_binary_changes,
                                                setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
