/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

#include "cni.h"
#include "event-util.h"
#include "fileio.h"
#include "kubeadm-conf.h"
#include "kubeadm.h"
#include "log.h"
#include "preflight-fix.h"
#include "role-node-internal.h"
#include "secret.h"

#define ENDPOINT_PROBE_USEC (2 * 1000000ULL)

/* ---- the view ---- */

static const Peer *find_peer(const NodeRole *r, const char *id)
{
        return r->peers ? peer_set_find(r->peers, id) : NULL;
}

/* Ready in mDNS, or told so directly by the master itself while its TXT record still shows the phase it had
 * when asked. */
static bool master_is_ready(const NodeRole *r, const Peer *p)
{
        if (p->phase == PHASE_READY)
                return true;
        for (size_t i = 0; i < MAX_MASTERS; i++)
                if (r->ready_asks[i].told && streq(r->ready_asks[i].id, p->id))
                        return r->ready_asks[i].phase == p->phase;
        return false;
}

static void build_view(NodeRole *r)
{
        size_t n = 0;

        r->view = (BootstrapView){};
        r->masters[n++] = (ElectionPeer){
                .id = r->self_id, .pinned = r->config->init && r->config->role == ROLE_MASTER, .initialized = false};
        if (r->config->role != ROLE_MASTER)
                n = 0;
        for (size_t i = 0; r->peers && i < peer_set_size(r->peers) && n < MAX_MASTERS; i++) {
                const Peer *p = peer_set_get(r->peers, i);
                if (p->role != ROLE_MASTER || streq(p->id, r->self_id))
                        continue;
                bool ready = master_is_ready(r, p);
                r->masters[n++] = (ElectionPeer){.id = p->id, .initialized = ready};
                r->view.ready_master = r->view.ready_master || ready;
                /* A candidate running kubeadm init keeps the vote this node gave it (it asks for no votes then).
                 * A campaigning candidate renews its vote by asking again every round; "electing" alone is no
                 * renewal: a master that deferred to a lower one stays "electing", and the votes it once got
                 * must lapse (with five masters they would otherwise block the lower one for good). */
                if (r->bootstrap && p->phase == PHASE_INITIALIZING)
                        election_candidate_seen(bootstrap_vote(r->bootstrap), p->id, event_now_usec(r->event));
        }
        r->view.masters = r->masters;
        r->view.n_masters = n;
}

/* ---- BootstrapOps: preflight and endpoint ---- */

static int op_preflight_probe(void *userdata, PreflightFacts *ret)
{
        return preflight_probe("/", ret);
}

static void on_fixed(int error, const char *detail, void *userdata)
{
        NodeRole *r = userdata;
        r->done(error, detail, r->done_userdata);
}

static int op_preflight_fix(void *userdata, const PreflightFinding *f, size_t n, BootstrapDone done, void *d)
{
        NodeRole *r = userdata;

        r->done = done;
        r->done_userdata = d;
        return preflight_fix_start(r->event, &preflight_fix_default_paths, f, n, on_fixed, r);
}

/* The clock (timesync.h): the escape (wait_for_clock=no) said once per role; what is waited for in words. */
static int op_clock_synced(void *userdata, char *detail, size_t n)
{
        NodeRole *r = userdata;
        bool synced;
        int q;

        if (!r->config->wait_for_clock) {
                if (!r->clock_trust_said) {
                        char now[64];
                        time_t t = time(NULL);
                        strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
                        log_warning("cluster.txt says wait_for_clock=no: trusting the clock as it is (%s); kubeadm's "
                                    "certificates and tokens start from it",
                                    now);
                        r->clock_trust_said = true;
                }
                return 1;
        }
        q = timesync_probe(TIMESYNC_FLAG, r->clock_kernel, &synced);
        if (q < 0)
                return q;
        if (synced)
                return 1;
        if (r->config->ntp)
                snprintf(detail, n,
                         "waiting for the clock: no NTP answer yet from %s (cluster.txt ntp=); kubeadm mints its "
                         "certificates from it",
                         r->config->ntp);
        else
                snprintf(detail, n,
                         "waiting for the clock: no NTP answer yet from systemd-timesyncd's servers (from DHCP, else "
                         "Debian's pool on the internet); on a LAN without internet, name an NTP server in "
                         "cluster.txt (ntp=)");
        return 0;
}

bool node_role_clock_synced(NodeRole *r)
{
        char detail[8];

        return op_clock_synced(r, detail, sizeof detail) > 0;
}

static void on_probed(int error, void *userdata)
{
        NodeRole *r = userdata;

        r->probe = NULL;
        if (error < 0)
                log_info_errno(error, "The control-plane endpoint does not answer yet: %m");
        r->done(error, NULL, r->done_userdata);
}

static int op_probe_endpoint(void *userdata, BootstrapDone done, void *d)
{
        NodeRole *r = userdata;

        r->done = done;
        r->done_userdata = d;
        return tcp_probe_start(r->event, r->config->vip.addr, r->config->api_port, ENDPOINT_PROBE_USEC, on_probed, r,
                               &r->probe);
}

/* ---- ready: masters not ready yet are asked to say so the moment they are (the exchange's ready op) ---- */

static void ready_ask_clear(ReadyAsk *a)
{
        exchange_client_call_cancel(a->call);
        *a = (ReadyAsk){};
}

static void ready_asks_sync(NodeRole *r);

static void on_ready_answer(void *userdata, int error, const ExchangeAnswer *answer)
{
        ReadyAsk *a = userdata;
        NodeRole *r = a->role;

        const Peer *p = find_peer(r, a->id);

        a->call = NULL;
        if (!p) {
                ready_ask_clear(a);
                return;
        }
        a->phase = p->phase; /* what mDNS shows when told */
        if (error >= 0 && streq(strempty(answer->server), a->id)) {
                log_info("Master %s says it is ready", a->id);
                a->told = true;
                if (r->bootstrap) {
                        build_view(r);
                        bootstrap_tick(r->bootstrap, &r->view);
                }
                return;
        }
        /* Held as long as it holds one: ask again. "Not now" at once (it holds too many, or cannot tell yet) is
         * left to mDNS until the master's phase changes. */
        if (error == -EAGAIN && event_now_usec(r->event) - a->asked_usec >= READY_HOLD_USEC / 2) {
                ready_asks_sync(r);
                return;
        }
        if (error >= 0)
                error = -EPROTO;
        log_debug_errno(error, "Master %s did not answer the ready request (mDNS will tell): %m", a->id);
        a->failed = true; /* asked again once its phase in mDNS changes */
}

/* While this node waits for a ready master (a worker, or a master that is to join), every master seen that is
 * not ready has one ready request in flight; mDNS remains the fallback. */
static void ready_asks_sync(NodeRole *r)
{
        Phase phase = r->bootstrap ? bootstrap_phase(r->bootstrap) : PHASE_FAILED;
        bool waiting = phase == PHASE_WAITING_FOR_MASTER || phase == PHASE_ELECTING;
        ExchangeQuery q = {.op = EXCHANGE_OP_READY};
        char addr[INET_ADDRSTRLEN];

        for (size_t i = 0; i < MAX_MASTERS; i++) {
                ReadyAsk *a = &r->ready_asks[i];
                const Peer *p = a->id[0] ? find_peer(r, a->id) : NULL;
                if (a->id[0] && (!p || p->phase == PHASE_READY))
                        ready_ask_clear(a); /* gone, or mDNS caught up */
                else if (!waiting) {
                        exchange_client_call_cancel(a->call); /* a told master stays ready for the join */
                        a->call = NULL;
                }
        }
        if (!waiting)
                return;
        for (size_t i = 0; r->peers && i < peer_set_size(r->peers); i++) {
                const Peer *p = peer_set_get(r->peers, i);
                ReadyAsk *a = NULL, *free_slot = NULL;
                if (p->role != ROLE_MASTER || streq(p->id, r->self_id) || p->phase == PHASE_READY ||
                    p->address.s_addr == 0)
                        continue;
                for (size_t j = 0; j < MAX_MASTERS && !a; j++) {
                        if (streq(r->ready_asks[j].id, p->id))
                                a = &r->ready_asks[j];
                        else if (!free_slot && !r->ready_asks[j].id[0])
                                free_slot = &r->ready_asks[j];
                }
                if (!a && !free_slot)
                        break;
                if (!a) {
                        a = free_slot;
                        *a = (ReadyAsk){.role = r};
                        snprintf(a->id, sizeof a->id, "%s", p->id);
                }
                if (a->told || a->failed) {
                        if (a->phase == p->phase)
                                continue;
                        a->told = a->failed = false; /* mDNS moved on: what was said before is old news */
                }
                if (a->call)
                        continue;
                inet_ntop(AF_INET, &p->address, addr, sizeof addr);
                a->asked_usec = event_now_usec(r->event);
                if (exchange_client_request(r->client, addr, p->port, &q, on_ready_answer, a, &a->call) < 0) {
                        a->phase = p->phase;
                        a->failed = true;
                }
        }
}

static void ready_asks_free(NodeRole *r)
{
        for (size_t i = 0; i < MAX_MASTERS; i++)
                ready_ask_clear(&r->ready_asks[i]);
}

/* ---- votes ---- */

struct VoteRound {
        NodeRole *role;
        unsigned pending, granted;
        BootstrapVotesDone done;
        void *userdata;
        ExchangeClientCall *calls[MAX_MASTERS];
        char asked[MAX_MASTERS][NODE_ID_SIZE]; /* the master each call went to */
        bool counted[MAX_MASTERS];
        size_t n_calls;
};

static void vote_round_finish(VoteRound *v)
{
        NodeRole *r = v->role;
        BootstrapVotesDone done = v->done;
        void *u = v->userdata;
        unsigned granted = v->granted;

        r->votes = NULL;
        free(v);
        done(granted, u);
}

/* A granted vote counts once per master that was asked, whoever's answer it is: the answer is sealed under the
 * secret, but an on-path attacker could send the requests for two masters to one, which would grant both
 * (renewal) and be counted twice. Whether it counts: the master is one asked, not counted yet. */
static bool vote_counts(VoteRound *v, const char *server)
{
        for (size_t i = 0; server && i < v->n_calls; i++)
                if (streq(v->asked[i], server)) {
                        if (v->counted[i])
                                return false;
                        v->counted[i] = true;
                        return true;
                }
        return false;
}

static void on_vote(void *userdata, int error, const ExchangeAnswer *answer)
{
        VoteRound *v = userdata;

        if (error < 0)
                log_info_errno(error, "A master did not answer the vote request: %m");
        else if (answer->granted && vote_counts(v, answer->server))
                v->granted++;
        else if (answer->granted)
                log_warning("Ignoring a vote from %s: not a master asked in this round, or counted already",
                            strempty(answer->server));
        else
                log_info("Master %s refused its vote (%s)", strempty(answer->server), strempty(answer->refusal));
        if (--v->pending == 0)
                vote_round_finish(v);
}

/* This node's own vote goes through the same rule as everybody else's. */
bool node_role_grant_vote(NodeRole *r, const char *candidate, const char **ret_refusal)
{
        static const char *const words[_ELECTION_REFUSAL_MAX] = {
                [ELECTION_GRANTED] = NULL,
                [ELECTION_REFUSED_VOTED_OTHER] = "voted-other",
                [ELECTION_REFUSED_CLUSTER_EXISTS] = "cluster-exists",
                [ELECTION_REFUSED_INVALID] = "invalid",
        };
        bool cluster_exists = node_state_is_member(bootstrap_state(r->bootstrap)) || r->view.ready_master;
        ElectionRefusal v;

        v = election_grant(bootstrap_vote(r->bootstrap), candidate, cluster_exists, event_now_usec(r->event),
                           VOTE_LEASE_USEC);
        if (ret_refusal)
                *ret_refusal = words[v];
        if (v == ELECTION_GRANTED) {
                bootstrap_save(r->bootstrap); /* before anyone learns of the vote */
                return true;
        }
        log_info("Refusing the vote to %s: %s", candidate, election_refusal_to_string(v));
        return false;
}

static int op_request_votes(void *userdata, BootstrapVotesDone done, void *d)
{
        NodeRole *r = userdata;
        ExchangeQuery q = {.op = EXCHANGE_OP_VOTE};
        char addr[INET_ADDRSTRLEN];
        VoteRound *v;

        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        *v = (VoteRound){.role = r, .done = done, .userdata = d};
        r->votes = v;
        v->granted = node_role_grant_vote(r, r->self_id, NULL) ? 1 : 0;
        v->pending = 1; /* held until every request is sent */
        for (size_t i = 0; r->peers && i < peer_set_size(r->peers); i++) {
                const Peer *p = peer_set_get(r->peers, i);
                if (p->role != ROLE_MASTER || streq(p->id, r->self_id) || p->address.s_addr == 0)
                        continue;
                inet_ntop(AF_INET, &p->address, addr, sizeof addr);
                if (v->n_calls >= MAX_MASTERS)
                        break;
                snprintf(v->asked[v->n_calls], sizeof v->asked[v->n_calls], "%s", p->id);
                if (exchange_client_request(r->client, addr, p->port, &q, on_vote, v, &v->calls[v->n_calls]) >= 0) {
                        v->n_calls++;
                        v->pending++;
                }
        }
        if (--v->pending == 0)
                vote_round_finish(v);
        return 0;
}

static void vote_round_cancel(NodeRole *r)
{
        if (!r->votes)
                return;
        for (size_t i = 0; i < r->votes->n_calls; i++)
                exchange_client_call_cancel(r->votes->calls[i]);
        free(r->votes);
        r->votes = NULL;
}

/* ---- join material ---- */

/* A ready master to ask, a different one each time when there are several: a master that died without a
 * goodbye lingers in mDNS for minutes, and asking it again and again would stall the join. */
static const Peer *pick_ready_master(NodeRole *r)
{
        const Peer *ready[MAX_MASTERS];
        size_t n = 0;

        for (size_t i = 0; r->peers && i < peer_set_size(r->peers) && n < MAX_MASTERS; i++) {
                const Peer *p = peer_set_get(r->peers, i);
                if (p->role == ROLE_MASTER && master_is_ready(r, p) && p->address.s_addr != 0 &&
                    !streq(p->id, r->self_id))
                        ready[n++] = p;
        }
        if (n == 0)
                return NULL;
        return ready[r->asked++ % n];
}

static void on_material(void *userdata, int error, const ExchangeAnswer *a)
{
        NodeRole *r = userdata;
        BootstrapMaterial m = {};

        r->material_call = NULL;
        if (error >= 0) {
                snprintf(m.token, sizeof m.token, "%s", strempty(a->join.token));
                snprintf(m.ca_hash, sizeof m.ca_hash, "%s", strempty(a->join.ca_cert_hash));
                snprintf(m.certificate_key, sizeof m.certificate_key, "%s", strempty(a->join.certificate_key));
                snprintf(m.server, sizeof m.server, "%s", strempty(a->server));
                log_info("Got join material from %s (CA %s)", m.server, m.ca_hash);
        } else
                log_info_errno(error, "No join material yet: %m");
        r->material_done(error, error < 0 ? NULL : &m, r->done_userdata);
        erase(&m, sizeof m);
}

static int op_fetch_material(void *userdata, bool control_plane, BootstrapMaterialDone done, void *d)
{
        NodeRole *r = userdata;
        const Peer *p = pick_ready_master(r);
        ExchangeQuery q = {.op = EXCHANGE_OP_JOIN,
                           .role = control_plane ? EXCHANGE_ROLE_CONTROL_PLANE : EXCHANGE_ROLE_WORKER};
        char addr[INET_ADDRSTRLEN];

        if (!p)
                return -EAGAIN;
        r->material_done = done;
        r->done_userdata = d;
        inet_ntop(AF_INET, &p->address, addr, sizeof addr);
        log_info("Asking master %s for %s join material", p->id, control_plane ? "control-plane" : "worker");
        return exchange_client_request(r->client, addr, p->port, &q, on_material, r, &r->material_call);
}

static void on_joined_reported(void *userdata, int error, const ExchangeAnswer *a)
{
        if (error < 0)
                log_debug_errno(error, "Could not report the join result, ignoring: %m");
}

static void op_report_joined(void *userdata, const BootstrapMaterial *m, bool control_plane, bool success)
{
        NodeRole *r = userdata;
        const Peer *p = find_peer(r, m->server);
        ExchangeQuery q = {.op = EXCHANGE_OP_JOINED,
                           .role = control_plane ? EXCHANGE_ROLE_CONTROL_PLANE : EXCHANGE_ROLE_WORKER,
                           .result = success ? EXCHANGE_RESULT_OK : EXCHANGE_RESULT_FAILED};
        char addr[INET_ADDRSTRLEN];

        if (!p)
                return;
        inet_ntop(AF_INET, &p->address, addr, sizeof addr);
        (void)exchange_client_request(r->client, addr, p->port, &q, on_joined_reported, r, NULL);
}

/* ---- kubeadm ---- */

static bool succeeded(const SpawnResult *res, char *detail, size_t size)
{
        char how[96];

        if (spawn_result_ok(res))
                return true;
        snprintf(detail, size, "kubeadm %s", spawn_result_describe(res, how, sizeof how));
        return false;
}

static void remove_config_file(NodeRole *r)
{
        if (r->config_path) {
                (void)unlink(r->config_path);
                free(r->config_path);
                r->config_path = NULL;
        }
}

static void on_kubeadm(const SpawnResult *res, void *userdata)
{
        NodeRole *r = userdata;
        char detail[128];
        bool ok = succeeded(res, detail, sizeof detail);

        r->child = NULL;
        remove_config_file(r);
        erase(&r->material, sizeof r->material);
        r->done(ok ? 0 : -EIO, ok ? NULL : detail, r->done_userdata);
}

/* Renders the configuration for r->next_verb into a 0600 file (it holds the token and certificate key). */
static int write_kubeadm_config(NodeRole *r, const KubeadmRelease *rel)
{
        char token[BOOTSTRAP_TOKEN_SIZE], key[CERTIFICATE_KEY_SIZE];
        _cleanup_free_ char *text = NULL;
        int q;

        if (r->next_verb == KUBEADM_INIT) {
                q = bootstrap_token_generate(token);
                if (q >= 0)
                        q = certificate_key_generate(key);
                if (q < 0)
                        return q;
                KubeadmInitParams p = {.api = rel->api,
                                       .config = r->config,
                                       .node_name = r->hostname,
                                       .advertise_address = r->address,
                                       .kubernetes_version = r->config->kubernetes_version ?: rel->version,
                                       .token = token,
                                       .certificate_key = key};
                q = kubeadm_init_conf_render(&p, &text);
        } else {
                KubeadmJoinParams p = {.api = rel->api,
                                       .config = r->config,
                                       .node_name = r->hostname,
                                       .advertise_address = r->address,
                                       .control_plane = r->control_plane,
                                       .token = r->material.token,
                                       .ca_hash = r->material.ca_hash,
                                       .certificate_key = r->control_plane ? r->material.certificate_key : NULL};
                q = kubeadm_join_conf_render(&p, &text);
        }
        erase(token, sizeof token);
        erase(key, sizeof key);
        if (q < 0)
                return q;
        if (asprintf(&r->config_path, "%s/kubeadm-%s.json", r->runtime_dir, kubeadm_verb_to_string(r->next_verb)) < 0) {
                r->config_path = NULL;
                erase(text, strlen(text));
                return -ENOMEM;
        }
        q = write_file_atomic(r->config_path, text, strlen(text), 0600);
        erase(text, strlen(text));
        return q;
}

static void on_release(int error, const char *detail, const KubeadmRelease *rel, void *userdata)
{
        NodeRole *r = userdata;
        char skew[320];
        int q;

        r->child = NULL;
        if (error < 0) {
                r->done(error, detail, r->done_userdata);
                return;
        }
        if (r->config->kubernetes_version &&
            kubeadm_version_skew_check(rel->version, r->config->kubernetes_version, skew, sizeof skew) == -ERANGE) {
                r->done(-ERANGE, skew, r->done_userdata);
                return;
        }
        q = write_kubeadm_config(r, rel);
        if (q >= 0)
                q = kubeadm_run(r->event, r->kubeadm, r->next_verb, r->config_path, on_kubeadm, r, &r->child);
        if (q < 0) {
                remove_config_file(r);
                r->done(q, "could not prepare the kubeadm configuration", r->done_userdata);
        }
}

/* The installed kubeadm's release first (kubeadm.h: asked once per process): it decides the configuration API
 * and, unless cluster.txt names one, the Kubernetes version. */
static int start_kubeadm(NodeRole *r, KubeadmVerb verb, BootstrapDone done, void *d)
{
        r->done = done;
        r->done_userdata = d;
        r->next_verb = verb;
        return kubeadm_release(r->event, r->kubeadm, on_release, r, &r->child);
}

static int op_kubeadm_init(void *userdata, BootstrapDone done, void *d)
{
        return start_kubeadm(userdata, KUBEADM_INIT, done, d);
}

static int op_kubeadm_join(void *userdata, const BootstrapMaterial *m, bool control_plane, BootstrapDone done, void *d)
{
        NodeRole *r = userdata;

        r->material = *m;
        r->control_plane = control_plane;
        return start_kubeadm(r, KUBEADM_JOIN, done, d);
}

static int op_kubeadm_reset(void *userdata, BootstrapDone done, void *d)
{
        NodeRole *r = userdata;

        r->done = done;
        r->done_userdata = d;
        return kubeadm_run(r->event, r->kubeadm, KUBEADM_RESET, NULL, on_kubeadm, r, &r->child);
}

static void on_cni(const SpawnResult *res, void *userdata)
{
        NodeRole *r = userdata;
        char how[96], detail[128];
        bool ok = spawn_result_ok(res);

        r->child = NULL;
        if (!ok)
                snprintf(detail, sizeof detail, "kubectl apply %s", spawn_result_describe(res, how, sizeof how));
        r->done(ok ? 0 : -EIO, ok ? NULL : detail, r->done_userdata);
}

static void on_kubectl_line(const char *line, void *userdata)
{
        log_info("kubectl: %s", line);
}

/* The first manifest found for cni= (cni.h: boot partition, /etc, the package's) with pod_subnet filled in,
 * written to the runtime directory: its path in *ret. On failure, what a person must do in detail. */
static int render_cni_manifest(NodeRole *r, char **ret, char *detail, size_t n)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *rendered = NULL, *out = NULL;
        Cni cni = r->config->cni;
        char cidr[IPV4_CIDR_STRLEN];
        CniSource s;
        int q = -ENOENT;

        for (s = 0; s < _CNI_SOURCE_MAX; s++) {
                free(path);
                path = NULL;
                q = cni_manifest_path(s, r->boot_dir, cni, &path);
                if (q < 0)
                        return q;
                q = read_file_full(path, CNI_MANIFEST_MAX, &text, NULL);
                if (q != -ENOENT)
                        break;
        }
        if (q == -ENOENT) {
                _cleanup_free_ char *m = NULL;
                if (cni_missing_message(r->boot_dir, cni, &m) >= 0)
                        snprintf(detail, n, "%s", m);
                return q;
        }
        if (q < 0) {
                snprintf(detail, n, "cannot read %s: %s", path, strerror(-q));
                return q;
        }
        ipv4_cidr_format(&r->config->pod_subnet, cidr);
        q = cni_manifest_render(text, &r->config->pod_subnet, &rendered);
        if (q == -EBADMSG && s == CNI_SOURCE_SHIPPED) {
                snprintf(detail, n, "%s lacks the %s placeholder: reinstall the piagent package", path,
                         CNI_POD_SUBNET_PLACEHOLDER);
                return q;
        }
        if (q == -EBADMSG) {
                log_notice("%s has no %s placeholder: applied as written; its pod network must be pod_subnet=%s", path,
                           CNI_POD_SUBNET_PLACEHOLDER, cidr);
                rendered = TAKE_PTR(text);
        } else if (q < 0)
                return q;
        if (asprintf(&out, "%s/cni-%s.yaml", r->runtime_dir, cni_to_string(cni)) < 0)
                return -ENOMEM;
        q = write_file_atomic(out, rendered, strlen(rendered), 0600);
        if (q < 0) {
                snprintf(detail, n, "cannot write %s: %s", out, strerror(-q));
                return q;
        }
        log_info("Pod network cni=%s: %s with pod_subnet=%s, rendered to %s", cni_to_string(cni), path, cidr, out);
        *ret = TAKE_PTR(out);
        return 0;
}

static int op_apply_cni(void *userdata, BootstrapDone done, void *d)
{
        NodeRole *r = userdata;
        _cleanup_free_ char *manifest = NULL;
        char detail[400] = "";
        int q;

        if (r->config->cni == CNI_NONE) {
                log_info("cni=none: no pod network applied");
                done(0, NULL, d);
                return 0;
        }
        q = render_cni_manifest(r, &manifest, detail, sizeof detail);
        if (q < 0) {
                /* Retried until it works (a manifest may be put in place later): the fix goes to err once. */
                if (!r->cni_reported && detail[0])
                        log_error("Pod network: %s", detail);
                r->cni_reported = r->cni_reported || detail[0];
                done(q, detail[0] ? detail : NULL, d);
                return 0;
        }
        r->cni_reported = false;
        r->done = done;
        r->done_userdata = d;
        char *argv[] = {(char *)"kubectl",
                        (char *)"--kubeconfig",
                        (char *)ADMIN_CONF,
                        (char *)"apply",
                        (char *)"-f",
                        manifest,
                        NULL};
        SpawnOptions o = {.argv = argv,
                          .timeout_usec = KUBEADM_SHORT_TIMEOUT,
                          .on_line = on_kubectl_line,
                          .on_done = on_cni,
                          .userdata = r};
        return spawn_start(r->event, &o, &r->child);
}

/* ---- state, timer, phase ---- */

static int op_save_state(void *userdata, const NodeState *s)
{
        NodeRole *r = userdata;
        return node_state_save(r->state_dir, s);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        NodeRole *r = userdata;

        build_view(r);
        bootstrap_timer(r->bootstrap, &r->view);
        return 0;
}

static int op_schedule(void *userdata, uint64_t usec)
{
        NodeRole *r = userdata;
        int q;

        if (r->timer) {
                q = sd_event_source_set_time_relative(r->timer, usec);
                if (q >= 0)
                        q = sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
                return q;
        }
        return sd_event_add_time_relative(r->event, &r->timer, CLOCK_MONOTONIC, usec, 0, on_timer, r);
}

static void op_phase_changed(void *userdata, Phase phase, const char *detail)
{
        NodeRole *r = userdata;

        if (phase == PHASE_PREFLIGHT && detail && strncmp(detail, "waiting for the clock", 21) == 0)
                log_notice("%s: %s", phase_to_string(phase), detail); /* a wait, not a fault (it is in the status) */
        else if (phase == PHASE_FAILED || phase == PHASE_PREFLIGHT)
                log_error("%s: %s", phase_to_string(phase), strempty(detail ?: bootstrap_problem(r->bootstrap)));
        else if (detail)
                log_notice("%s: %s", phase_to_string(phase), detail);
        if (phase == PHASE_READY)
                node_role_ready_waiters_release(r, 0);
        ready_asks_sync(r);
        r->changed(r->userdata);
}

static const BootstrapOps node_ops = {
        .preflight_probe = op_preflight_probe,
        .preflight_fix = op_preflight_fix,
        .clock_synced = op_clock_synced,
        .probe_endpoint = op_probe_endpoint,
        .request_votes = op_request_votes,
        .fetch_material = op_fetch_material,
        .report_joined = op_report_joined,
        .kubeadm_init = op_kubeadm_init,
        .kubeadm_join = op_kubeadm_join,
        .kubeadm_reset = op_kubeadm_reset,
        .apply_cni = op_apply_cni,
        .save_state = op_save_state,
        .schedule = op_schedule,
        .phase_changed = op_phase_changed,
};

/* ---- lifecycle ---- */

Phase node_role_phase(const NodeRole *r)
{
        if (r->broken_state || !r->bootstrap)
                return PHASE_FAILED;
        return bootstrap_phase(r->bootstrap);
}

const char *node_role_problem(const NodeRole *r)
{
        if (r->broken_state || !r->bootstrap)
                return r->problem;
        return bootstrap_problem(r->bootstrap);
}

void node_role_update(NodeRole *r, const PeerSet *peers)
{
        r->peers = peers;
        if (!r->bootstrap)
                return;
        build_view(r);
        bootstrap_tick(r->bootstrap, &r->view);
        ready_asks_sync(r);
}

void node_role_start(NodeRole *r, const PeerSet *peers)
{
        node_role_update(r, peers);
}

static int load_state(NodeRole *r, NodeState *ret)
{
        int q = node_state_load(r->state_dir, ret);

        if (q == -ENOENT) {
                *ret = (NodeState){.role = _ROLE_INVALID};
                return 0;
        }
        if (q < 0) {
                snprintf(r->problem, sizeof r->problem,
                         "%s/" NODE_STATE_FILE " is damaged (%s): this node does nothing until a person looks at it; "
                         "'piagent reset' starts over",
                         r->state_dir, strerror(-q));
                log_error("%s", r->problem);
                return q;
        }
        if (node_state_is_member(ret) && ret->role != r->config->role) {
                snprintf(r->problem, sizeof r->problem,
                         "This node is part of the cluster as a %s, but role.txt now says %s: refusing to change "
                         "it. Put role=%s back, or run 'piagent reset' to rebuild the node deliberately",
                         role_to_string(ret->role), role_to_string(r->config->role), role_to_string(ret->role));
                log_error("%s", r->problem);
                return -EEXIST;
        }
        return 0;
}

int node_role_new(sd_event *e, const NodeRoleParams *p, NodeRoleChanged changed, void *userdata, NodeRole **ret)
{
        NodeRole *r;
        NodeState state;
        int q;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        r->config = config_ref(p->config);
        r->address = p->address;
        r->clock_kernel = p->clock_kernel;
        r->changed = changed;
        r->userdata = userdata;
        r->self_id = strdup(p->self_id);
        r->hostname = strdup(p->hostname);
        r->state_dir = strdup(p->state_dir);
        r->runtime_dir = strdup(p->runtime_dir);
        r->boot_dir = strdup(p->boot_dir);
        r->kubeadm = p->kubeadm ? strdup(p->kubeadm) : NULL;
        if (!r->self_id || !r->hostname || !r->state_dir || !r->runtime_dir || !r->boot_dir ||
            (p->kubeadm && !r->kubeadm)) {
                node_role_free(r);
                return -ENOMEM;
        }
        q = mkdir_parents(r->runtime_dir, 0700);
        if (q >= 0)
                q = exchange_client_new(e, p->config->secret, p->self_id, NULL, &r->client);
        if (q < 0) {
                node_role_free(r);
                return q;
        }

        if (load_state(r, &state) < 0)
                r->broken_state = true;
        else {
                q = bootstrap_new(&node_ops, r, p->config, p->self_id, &state, p->preflight_ignore, &r->bootstrap);
                if (q < 0) {
                        node_role_free(r);
                        return q;
                }
        }

        /* Masters serve votes, join material and the CA. Workers serve nothing. */
        if (p->config->role == ROLE_MASTER && r->bootstrap) {
                /* On the cluster interface's address only: nothing on another network reaches it. Split when run
                 * by systemd: the network-facing half in the unprivileged piagent-exchange.service. */
                char address[INET_ADDRSTRLEN];
                ExchangeServiceOptions o = {
                        .server = {.http = {.address = inet_ntop(AF_INET, &r->address, address, sizeof address),
                                            .port = p->config->exchange_port}},
                        .bus = p->exchange_socket ? p->bus : NULL,
                        .socket_path = p->exchange_socket,
                };
                q = exchange_service_new(e, p->config->secret, &o, &node_role_master_provider, r, &r->service);
                if (q < 0) {
                        log_error_errno(q, "Cannot serve the exchange on %s port %u: %m",
                                        strempty(o.server.http.address), p->config->exchange_port);
                        node_role_free(r);
                        return q;
                }
        }
        *ret = r;
        return 0;
}

NodeRole *node_role_free(NodeRole *r)
{
        if (!r)
                return NULL;
        node_role_ready_waiters_release(r, -EAGAIN);
        ready_asks_free(r);
        exchange_service_free(r->service);
        join_material_cache_free(r->material_cache);
        vote_round_cancel(r);
        exchange_client_call_cancel(r->material_call);
        exchange_client_free(r->client);
        tcp_probe_cancel(r->probe);
        spawn_cancel(r->child);
        remove_config_file(r);
        sd_event_source_disable_unref(r->timer);
        bootstrap_free(r->bootstrap);
        config_unref(r->config);
        erase(&r->material, sizeof r->material);
        sd_event_unref(r->event);
        free(r->self_id);
        free(r->hostname);
        free(r->state_dir);
        free(r->runtime_dir);
        free(r->boot_dir);
        free(r->kubeadm);
        free(r);
        return NULL;
}
