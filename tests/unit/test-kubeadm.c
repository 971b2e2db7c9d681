/* SPDX-License-Identifier: MIT */
/* The kubeadm driver against a stand-in script: argv for each verb (secrets only through the config file),
 * the output handed to the caller whole but logged masked. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "kubeadm.h"
#include "log.h"

#define TOKEN "abcdef.0123456789abcdef"

static char dir[64], script[128], argv_log[128];

typedef struct Result {
        sd_event *event;
        bool done;
        int exit_code;
        char output[512];
} Result;

static int setup(void **state)
{
        char text[512];

        snprintf(dir, sizeof dir, "/tmp/piagent-kubeadm-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        snprintf(script, sizeof script, "%s/kubeadm", dir);
        snprintf(argv_log, sizeof argv_log, "%s/argv", dir);
        snprintf(text, sizeof text,
                 "#!/bin/sh\necho \"$*\" > %s\n"
                 "case \"$1\" in token) echo " TOKEN ";; init) echo \"kubeadm join x --token " TOKEN "\"; exit 3;; "
                 "esac\n",
                 argv_log);
        if (write_file_atomic(script, text, strlen(text), 0755) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void on_done(const SpawnResult *r, void *userdata)
{
        Result *res = userdata;
        res->done = true;
        res->exit_code = r->exit_code;
        snprintf(res->output, sizeof res->output, "%s", r->output ? r->output : "");
        sd_event_exit(res->event, 0);
}

static void run(KubeadmVerb verb, const char *config, Result *res)
{
        memset(res, 0, sizeof *res);
        assert_int_equal(sd_event_new(&res->event), 0);
        assert_int_equal(kubeadm_run(res->event, script, verb, config, on_done, res, NULL), 0);
        assert_int_equal(sd_event_loop(res->event), 0);
        sd_event_unref(res->event);
        assert_true(res->done);
}

static void expect_argv(const char *want)
{
        char *got = NULL;
        assert_int_equal(read_file_full(argv_log, 4096, &got, NULL), 0);
        got[strcspn(got, "\n")] = 0;
        assert_string_equal(got, want);
        free(got);
}

static void kubeadm_run__each_verb__argv_without_secrets(void **state)
{
        Result r;

        run(KUBEADM_VERSION, NULL, &r);
        expect_argv("version -o short");
        run(KUBEADM_JOIN, "/run/piagent/join.json", &r);
        expect_argv("join --config /run/piagent/join.json");
        run(KUBEADM_UPLOAD_CERTS, "/run/piagent/upload.json", &r);
        expect_argv("init phase upload-certs --upload-certs --config /run/piagent/upload.json");
        run(KUBEADM_RESET, NULL, &r);
        expect_argv("reset -f");
        run(KUBEADM_TOKEN_CREATE, NULL, &r);
        expect_argv("token create --kubeconfig /etc/kubernetes/admin.conf --ttl 15m0s");
}

static void kubeadm_release_parse__versions(void **state)
{
        KubeadmRelease r;

        assert_int_equal(kubeadm_release_parse("v1.31.2\n", &r), 0);
        assert_string_equal(r.version, "v1.31.2");
        assert_int_equal(r.api, KUBEADM_V1BETA4);
        assert_int_equal(kubeadm_release_parse("v1.30.14", &r), 0);
        assert_int_equal(r.api, KUBEADM_V1BETA3);
        assert_int_equal(kubeadm_release_parse("v1.22.0\n", &r), 0);
        assert_int_equal(r.api, KUBEADM_V1BETA3);
        assert_int_equal(kubeadm_release_parse("v1.36.1-rc.0\n", &r), 0);
        assert_int_equal(r.api, KUBEADM_V1BETA4);
        assert_int_equal(kubeadm_release_parse("v1.21.14\n", &r), -EPROTO);
        assert_int_equal(kubeadm_release_parse("", &r), -EINVAL);
        assert_int_equal(kubeadm_release_parse("\n", &r), -EINVAL);
        assert_int_equal(kubeadm_release_parse("error: unknown flag\n", &r), -EINVAL);
        assert_int_equal(kubeadm_release_parse("v1.31.2-this-is-far-too-long-to-be-a-version\n", &r), -EINVAL);
        assert_int_equal(kubeadm_release_parse(NULL, &r), -EINVAL);
}

static void kubeadm_run__verb_needing_config_without_one__einval(void **state)
{
        sd_event *e = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(kubeadm_run(e, script, KUBEADM_INIT, NULL, on_done, NULL, NULL), -EINVAL);
        assert_int_equal(kubeadm_run(e, script, KUBEADM_JOIN, NULL, on_done, NULL, NULL), -EINVAL);
        sd_event_unref(e);
}

static void kubeadm_run__token_in_output__caller_gets_it_log_masked(void **state)
{
        char logpath[160], *logged = NULL;
        int saved = dup(STDERR_FILENO), fd;
        Result r;

        snprintf(logpath, sizeof logpath, "%s/stderr", dir);
        fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        log_set_target(LOG_TARGET_STDERR);
        dup2(fd, STDERR_FILENO);

        run(KUBEADM_TOKEN_CREATE, NULL, &r);
        run(KUBEADM_INIT, "/run/piagent/init.json", &r);

        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(fd);

        assert_int_equal(r.exit_code, 3);
        assert_string_equal(r.output, "kubeadm join x --token " TOKEN "\n");
        assert_int_equal(read_file_full(logpath, 1 << 16, &logged, NULL), 0);
        assert_null(strstr(logged, TOKEN));
        assert_non_null(strstr(logged, "kubeadm token-create: <token>"));
        assert_non_null(strstr(logged, "kubeadm init: kubeadm join x --token <token>"));
        free(logged);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(kubeadm_run__each_verb__argv_without_secrets, setup, teardown),
                cmocka_unit_test_setup_teardown(kubeadm_run__verb_needing_config_without_one__einval, setup, teardown),
                cmocka_unit_test(kubeadm_release_parse__versions),
                cmocka_unit_test_setup_teardown(kubeadm_run__token_in_output__caller_gets_it_log_masked, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
