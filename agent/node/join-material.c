/* SPDX-License-Identifier: MIT */

#include <stdio.h>
#include <stdlib.h>

#include "crypto.h"
#include "event-util.h"
#include "fileio.h"
#include "join-material.h"
#include "kubeadm.h"
#include "log.h"
#include "macro.h"
#include "secret.h"

typedef struct Waiter {
        JoinMaterialDone done;
        void *userdata;
} Waiter;

typedef struct Job Job;

/* One kind of material (worker, control plane): the last made, and the run making the next. */
typedef struct Slot {
        BootstrapMaterial m; /* token (and certificate key); the CA hash is computed per request */
        uint64_t made_usec;
        bool valid;
        Job *running;
} Slot;

struct JoinMaterialCache {
        Slot slots[2]; /* [control_plane] */
};

struct Job {
        sd_event *event;
        JoinMaterialParams p;
        char *config_path; /* the upload-certs configuration, removed when done */
        char *kubeadm;     /* a copy of p.kubeadm: the run outlives the request */
        BootstrapMaterial m;
        Slot *slot; /* NULL: not shared (no cache, or the cache was freed meanwhile) */
        Waiter *waiters;
        size_t n_waiters;
};

int join_material_cache_new(JoinMaterialCache **ret)
{
        JoinMaterialCache *c = calloc(1, sizeof *c);

        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

void join_material_cache_forget(JoinMaterialCache *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < ELEMENTSOF(c->slots); i++) {
                erase(&c->slots[i].m, sizeof c->slots[i].m);
                c->slots[i].valid = false;
        }
}

JoinMaterialCache *join_material_cache_free(JoinMaterialCache *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(c->slots); i++)
                if (c->slots[i].running) {
                        c->slots[i].running->slot = NULL;
                        c->slots[i].running->n_waiters = 0;
                }
        join_material_cache_forget(c);
        free(c);
        return NULL;
}

int ca_hash_from_file(const char *path, char out[static 80])
{
        _cleanup_free_ char *pem = NULL;
        size_t size;
        int r;

        r = read_file_full(path, 64 * 1024, &pem, &size);
        if (r < 0)
                return r;
        return crypto_ca_cert_hash(pem, size, out);
}

static void job_finish(Job *j, int error, const char *detail)
{
        if (j->slot) {
                j->slot->running = NULL;
                if (error >= 0) {
                        j->slot->m = j->m;
                        j->slot->made_usec = event_now_usec(j->event);
                        j->slot->valid = true;
                }
        }
        /* Every waiter gets the same material; a callback may start new requests (they find the slot filled). */
        for (size_t i = 0; i < j->n_waiters; i++)
                j->waiters[i].done(error, detail, error < 0 ? NULL : &j->m, j->waiters[i].userdata);
        erase(&j->m, sizeof j->m);
        if (j->config_path) {
                (void)unlink(j->config_path);
                free(j->config_path);
        }
        free(j->waiters);
        free(j->kubeadm);
        sd_event_unref(j->event);
        free(j);
}

static int job_add_waiter(Job *j, JoinMaterialDone done, void *userdata)
{
        Waiter *w = reallocarray(j->waiters, j->n_waiters + 1, sizeof *w);

        if (!w)
                return -ENOMEM;
        j->waiters = w;
        j->waiters[j->n_waiters++] = (Waiter){done, userdata};
        return 0;
}

static bool succeeded(const SpawnResult *r, char *detail, size_t size)
{
        char how[96];

        if (spawn_result_ok(r))
                return true;
        snprintf(detail, size, "%s", spawn_result_describe(r, how, sizeof how));
        return false;
}

static void on_token(const SpawnResult *r, void *userdata)
{
        Job *j = userdata;
        char detail[128];
        size_t n;

        if (!succeeded(r, detail, sizeof detail)) {
                job_finish(j, -EIO, detail);
                return;
        }
        /* The token is the last line kubeadm prints. */
        const char *out = r->output ?: "";
        const char *last = out;
        for (const char *p = out; *p; p++)
                if (*p == '\n' && p[1])
                        last = p + 1;
        n = strcspn(last, "\r\n");
        if (n >= sizeof j->m.token) {
                job_finish(j, -EBADMSG, "kubeadm token create printed no token");
                return;
        }
        memcpy(j->m.token, last, n);
        j->m.token[n] = 0;
        if (!kubeadm_token_is_valid(j->m.token)) {
                job_finish(j, -EBADMSG, "kubeadm token create printed no token");
                return;
        }
        job_finish(j, 0, NULL);
}

static void create_token(Job *j)
{
        int r = kubeadm_run(j->event, j->kubeadm, KUBEADM_TOKEN_CREATE, NULL, on_token, j, NULL);
        if (r < 0)
                job_finish(j, r, "could not run kubeadm token create");
}

static void on_upload(const SpawnResult *r, void *userdata)
{
        Job *j = userdata;
        char detail[128];

        if (!succeeded(r, detail, sizeof detail)) {
                job_finish(j, -EIO, detail);
                return;
        }
        create_token(j);
}

/* The upload-certs configuration carries the new certificate key, so it never appears on a command line. */
static int upload_certs(Job *j, const KubeadmRelease *rel)
{
        char token[BOOTSTRAP_TOKEN_SIZE], *text = NULL;
        int r;

        r = certificate_key_generate(j->m.certificate_key);
        /* An init configuration needs a well-formed token; upload-certs does not use it (never registered). */
        if (r >= 0)
                r = bootstrap_token_generate(token);
        if (r < 0)
                return r;

        KubeadmInitParams ip = {.api = rel->api,
                                .config = j->p.config,
                                .node_name = j->p.node_name,
                                .advertise_address = j->p.address,
                                .kubernetes_version = j->p.config->kubernetes_version ?: rel->version,
                                .token = token,
                                .certificate_key = j->m.certificate_key};
        r = kubeadm_init_conf_render(&ip, &text);
        if (r < 0)
                return r;
        if (asprintf(&j->config_path, "%s/upload-certs.json", j->p.runtime_dir) < 0) {
                j->config_path = NULL;
                erase_and_free(text);
                return -ENOMEM;
        }
        r = write_file_atomic(j->config_path, text, strlen(text), 0600);
        erase_and_free(text);
        if (r < 0)
                return r;
        return kubeadm_run(j->event, j->kubeadm, KUBEADM_UPLOAD_CERTS, j->config_path, on_upload, j, NULL);
}

static void on_release(int error, const char *detail, const KubeadmRelease *rel, void *userdata)
{
        Job *j = userdata;
        char skew[320];
        int r;

        if (error < 0) {
                job_finish(j, error, detail);
                return;
        }
        if (j->p.config->kubernetes_version &&
            kubeadm_version_skew_check(rel->version, j->p.config->kubernetes_version, skew, sizeof skew) == -ERANGE) {
                job_finish(j, -ERANGE, skew);
                return;
        }
        r = upload_certs(j, rel);
        if (r < 0)
                job_finish(j, r, "could not upload the control-plane certificates");
}

int join_material_create(sd_event *e, JoinMaterialCache *cache, const JoinMaterialParams *p, JoinMaterialDone done,
                         void *userdata)
{
        Slot *slot = cache ? &cache->slots[p->control_plane] : NULL;
        BootstrapMaterial m = {};
        Job *j;
        int r;

        snprintf(m.server, sizeof m.server, "%s", p->self_id);
        r = ca_hash_from_file(p->ca_file, m.ca_hash);
        if (r < 0) {
                log_warning_errno(r, "Cannot compute the CA hash from %s: %m", p->ca_file);
                done(r, "the cluster CA certificate is not readable", NULL, userdata);
                return 0;
        }
        if (slot && slot->valid && event_now_usec(e) - slot->made_usec < JOIN_MATERIAL_REUSE_USEC &&
            streq(slot->m.ca_hash, m.ca_hash)) {
                m = slot->m;
                done(0, NULL, &m, userdata);
                erase(&m, sizeof m);
                return 0;
        }
        if (slot && slot->running && streq(slot->running->m.ca_hash, m.ca_hash))
                return job_add_waiter(slot->running, done, userdata);

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->event = sd_event_ref(e);
        j->p = *p;
        j->m = m;
        j->kubeadm = p->kubeadm ? strdup(p->kubeadm) : NULL;
        r = p->kubeadm && !j->kubeadm ? -ENOMEM : job_add_waiter(j, done, userdata);
        if (r < 0) {
                free(j->kubeadm);
                sd_event_unref(j->event);
                free(j);
                return r;
        }
        if (slot && !slot->running) {
                j->slot = slot;
                slot->running = j;
        }
        if (p->control_plane) {
                r = kubeadm_release(e, j->kubeadm, on_release, j, NULL);
                if (r < 0)
                        job_finish(j, r, "could not run kubeadm version");
                return 0;
        }
        create_token(j);
        return 0;
}
